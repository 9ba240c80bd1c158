package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"HOME": "/home/u", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want, err string
		lenient       bool
	}{
		{in: "plain", want: "plain"},
		{in: "$HOME stays", want: "$HOME stays"},
		{in: "${HOME}/x", want: "/home/u/x"},
		{in: "a${EMPTY}b", want: "ab"},
		{in: "${HOME}${HOME}", want: "/home/u/home/u"},
		{in: "${secret:gh_token}", want: "${secret:gh_token}"},
		{in: "Bearer ${secret:x} at ${HOME}", want: "Bearer ${secret:x} at /home/u"},
		{in: "$${HOME}", want: "${HOME}"},
		{in: "cost: $5", want: "cost: $5"},
		{in: "${MISSING}", err: "environment variable MISSING is not set; export it"},
		{in: "${MISSING}", want: "${MISSING}", lenient: true},
		{in: "${HOME", err: "unterminated reference"},
		{in: "${A-B}", err: "bad reference ${A-B}"},
		{in: "${}", err: "bad reference ${}"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, lookup, !tt.lenient)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expand(%q) error = %v, want it to contain %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("expand(%q): %v", tt.in, err)
		case got != tt.want:
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
