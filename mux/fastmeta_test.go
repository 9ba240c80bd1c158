package mux

import (
	"encoding/json"
	"math"
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

// TestRelayedMetaWalk holds the in-place walk to the decoder's result on
// objects that test its edges: nesting, strings holding delimiters and
// escapes, whitespace, and an escaped key (which takes the decoder's way).
func TestRelayedMetaWalk(t *testing.T) {
	for _, in := range []string{
		`{}`,
		` { } `,
		`{"a":1}`,
		`{ "a" : [1, {"b":"}]\"{["}, -2.5e3] , "c":null,"d":true,"e":false }`,
		"{\n\t\"io.modelcontextprotocol/clientInfo\":{\"name\":\"x\\\"}\"},\r\n\"progressToken\":\"t\"}",
		`{"io.modelcontextprotocol/logLevel":"info","io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}}}`,
		`{"k\u0061y":1,"io.modelcontextprotocol/clientInfo":{}}`,
		`{"a":1,"a":2}`,
		`{"s":"\\","n":[[],{}]}`,
	} {
		var got, want relayedMeta
		if err := got.UnmarshalJSON([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if err := want.decode([]byte(in)); err != nil {
			t.Fatalf("%s: decode: %v", in, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-decoder +walk):\n%s", in, diff)
		}
	}
}

// FuzzRelayedMeta holds the walk to the decoder on any JSON object.
func FuzzRelayedMeta(f *testing.F) {
	f.Add(`{"a":{"b":["}",1]},"io.modelcontextprotocol/clientInfo":{"name":"n"},"progressToken":3}`)
	f.Add(`{"x":"\"\\"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var want relayedMeta
		if want.decode([]byte(in)) != nil || !segjson.Valid([]byte(in)) {
			return
		}
		var got relayedMeta
		if err := got.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-decoder +walk):\n%s", in, diff)
		}
	})
}

// TestEncodeID holds encodeID to encoding/json's bytes.
func TestEncodeID(t *testing.T) {
	for _, id := range []any{float64(0), float64(1), float64(42), math.Copysign(0, -1), float64(1 << 52), float64(1 << 53), 1e21, 1.5, -3.0, "a", "<&>", "mcpgw-f-1"} {
		want, _ := json.Marshal(id)
		if got := encodeID(id); string(got) != string(want) {
			t.Errorf("encodeID(%v) = %s, want %s", id, got, want)
		}
	}
}
