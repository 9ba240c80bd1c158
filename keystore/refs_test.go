package keystore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpgw/mcpgw/keystore"
)

func TestRefsAndExpand(t *testing.T) {
	values := map[string]string{"a": "AAA", "gh-token": "ghp_x", "db.pass": "p@ss"}
	lookup := func(n string) (string, error) {
		if v, ok := values[n]; ok {
			return v, nil
		}
		return "", &keystore.NotFoundError{Name: n}
	}
	for _, tc := range []struct {
		in, want string
		refs     []string
	}{
		{"plain", "plain", nil},
		{"${secret:a}", "AAA", []string{"a"}},
		{"Bearer ${secret:gh-token}", "Bearer ghp_x", []string{"gh-token"}},
		{"postgres://u:${secret:db.pass}@h/${secret:a}?x=${secret:a}", "postgres://u:p@ss@h/AAA?x=AAA", []string{"db.pass", "a"}},
		{"$${secret:a} ${secret:a}", "${secret:a} AAA", []string{"a"}},
		{"${HOME} $5 {x}", "${HOME} $5 {x}", nil},
	} {
		got, err := keystore.Expand(tc.in, lookup)
		if err != nil || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if diff := cmp.Diff(tc.refs, keystore.Refs(tc.in)); diff != "" {
			t.Errorf("Refs(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	for in, want := range map[string]string{
		"${secret:missing}":  "mcpgw secret set missing",
		"${secret:a":         "unterminated",
		"${secret:bad name}": "bad secret name",
	} {
		_, err := keystore.Expand(in, lookup)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Expand(%q) = %v; want an error containing %q", in, err, want)
		}
	}
	if _, err := keystore.Expand("${secret:missing}", lookup); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("missing secret error %v is not ErrNotFound", err)
	}
}
