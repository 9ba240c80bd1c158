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

func TestLogsSection(t *testing.T) {
	c, err := Parse("c.yaml", []byte("logs: {path: /tmp/x.db, payloads: none, max_payload_bytes: 64KB, strict: true, retention: {max_age: 30d, max_size: 500MB}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Logs
	if l.Path != "/tmp/x.db" || l.Payloads != "none" || l.MaxPayloadBytes != 64<<10 || !l.Strict || l.Retention.MaxAge.Hours() != 720 || l.Retention.MaxSize != 500<<20 || !l.IsEnabled() {
		t.Errorf("logs = %+v", l)
	}
	for src, want := range map[string]string{
		"logs: {payloads: some}\n":              "unknown payloads",
		"logs: {retention: {max_size: lots}}\n": "is not a size",
		"logs: {retention: {max_age: 3y}}\n":    "is not a duration",
		"logs: {enabled: maybe}\n":              "expected true or false",
		"logs: {pth: x}\n":                      `unknown key "pth" (did you mean "path"?)`,
	} {
		if _, err := Parse("c.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v; want %q", strings.TrimSpace(src), err, want)
		}
	}
}
