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
		{in: "$${secret:x} ${secret:y}", want: "$${secret:x} ${secret:y}"}, // the keystore unescapes
		{in: "${secret:bad/name}", err: "bad secret name"},
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

func TestSecretsInConfig(t *testing.T) {
	src := `
secrets: {fallback: env, timeout: 2s}
servers:
  gh:
    command: gh-mcp
    args: ["--token=${secret:gh-token}", "$${secret:literal}"]
    env: {A: "${secret:db.pass}", B: "x${secret:gh-token}y"}
    cwd: "/tmp/$${secret:dir}"
  remote:
    url: https://example.com/mcp?key=${secret:url-key}
    headers: {Authorization: "Bearer ${secret:api}"}
`
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c.Secrets.Fallback != "env" || c.Secrets.Timeout.String() != "2s" {
		t.Errorf("Secrets = %+v", c.Secrets)
	}
	gh := c.Servers["gh"]
	if got := strings.Join(gh.SecretRefs(), ","); got != "db.pass,gh-token" {
		t.Errorf("gh refs = %s", got)
	}
	if gh.Cwd != "/tmp/${secret:dir}" {
		t.Errorf("cwd = %q; the escape becomes literal text where secrets are not resolved", gh.Cwd)
	}
	if gh.Args[1] != "$${secret:literal}" {
		t.Errorf("args[1] = %q; the escape is kept for the keystore", gh.Args[1])
	}
	if got := strings.Join(c.Servers["remote"].SecretRefs(), ","); got != "api,url-key" {
		t.Errorf("remote refs = %s", got)
	}
}
