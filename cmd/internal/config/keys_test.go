package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestTablesRoundTrip sets every key the tables know, encodes the
// configuration with them and decodes it back: an entry whose encoding
// does not read back as it was, or that was left out, fails here.
func TestTablesRoundTrip(t *testing.T) {
	f, tr, empty := false, true, ""
	want := &Config{
		Path:  "c.yaml",
		Order: []string{"local", "remote"},
		Servers: map[string]*Server{
			"local": {
				Name: "local", Command: "npx", Args: []string{"-y", "${secret:a}", "8080"},
				Env: map[string]string{"B": "${secret:b}", "A": "1"}, Cwd: "/tmp",
				Prefix: &empty, Enabled: &f, Start: "lazy",
				Tools:           ToolFilter{Allow: []string{"read_*"}, Deny: []string{"delete_*", "drop"}},
				Timeouts:        Timeouts{Connect: 10 * time.Second, Call: 90 * time.Second, Tools: map[string]time.Duration{"export_*": 10 * time.Minute}},
				ProtocolVersion: "2025-06-18",
			},
			"remote": {
				Name: "remote", URL: "https://${secret:host}/mcp", Transport: "sse",
				Headers: map[string]string{"Authorization": "Bearer ${secret:t}"}, Enabled: &tr, Start: "eager",
				AssertIdentity: true,
			},
		},
		Secrets: Secrets{Fallback: "env", Timeout: 5 * time.Second},
		Logs: Logs{Enabled: &tr, Path: "/var/mcpgw.db", Payloads: "full", MaxPayloadBytes: 1 << 20, Strict: true,
			Retention: Retention{MaxAge: 30 * 24 * time.Hour, MaxSize: 500 << 20}},
	}
	doc, err := encodeDocument(configTable.encode(want))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parse("c.yaml", doc, false)
	if err != nil {
		t.Fatalf("encoded configuration does not load: %v\n%s", err, doc)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Server{}, "Line")); diff != "" {
		t.Errorf("round trip (-want +got):\n%s\nencoded as:\n%s", diff, doc)
	}
}
