package mux

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	segjson "github.com/segmentio/encoding/json"
)

// TestRelayedMeta decodes a 2026-07-28 request's _meta as the stdio fast
// path does: the keys that go on to the server, the log level and the
// protocol version, and not the client's info and capabilities.
func TestRelayedMeta(t *testing.T) {
	params := `{"name":"echo","arguments":{},"_meta":{"progressToken":7,"com.example/trace":{"id":"a"},` +
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/logLevel":"debug",` +
		`"io.modelcontextprotocol/clientInfo":{"name":"agent","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}}`
	var p stdioCallParams
	if _, err := segjson.Parse([]byte(params), &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		t.Fatal(err)
	}
	want := relayedMeta{
		"progressToken":                           float64(7),
		"com.example/trace":                       map[string]any{"id": "a"},
		"io.modelcontextprotocol/protocolVersion": "2026-07-28",
		"io.modelcontextprotocol/logLevel":        "debug",
	}
	if diff := cmp.Diff(want, p.Meta); diff != "" {
		t.Errorf("_meta (-want +got):\n%s", diff)
	}
}
