package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// argsSchema covers every JSON type --arg values are typed from.
const argsSchema = `{
  "type": "object",
  "properties": {
    "n":     {"type": "integer"},
    "x":     {"type": "number"},
    "b":     {"type": "boolean"},
    "s":     {"type": "string"},
    "tags":  {"type": "array", "items": {"type": "string"}},
    "nums":  {"type": "array", "items": {"type": "integer"}},
    "any":   {"type": "array"},
    "obj":   {"type": "object"},
    "maybe": {"type": ["integer", "null"]},
    "free":  {}
  },
  "additionalProperties": false
}`

func schemaMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildArgs(t *testing.T) {
	closed := schemaMap(t, argsSchema)
	open := schemaMap(t, `{"type":"object","properties":{"n":{"type":"integer"}}}`)
	tests := []struct {
		name   string
		schema map[string]any
		json   string
		pairs  []string
		want   string // JSON; "" means nil arguments
	}{
		{name: "none", schema: closed},
		{name: "integer", schema: closed, pairs: []string{"n=42"}, want: `{"n":42}`},
		{name: "negative integer", schema: closed, pairs: []string{"n=-7"}, want: `{"n":-7}`},
		{name: "number", schema: closed, pairs: []string{"x=2.5"}, want: `{"x":2.5}`},
		{name: "boolean", schema: closed, pairs: []string{"b=true"}, want: `{"b":true}`},
		{name: "boolean false", schema: closed, pairs: []string{"b=false"}, want: `{"b":false}`},
		{name: "string stays a string", schema: closed, pairs: []string{"s=123"}, want: `{"s":"123"}`},
		{name: "string keeps later =", schema: closed, pairs: []string{"s=a=b"}, want: `{"s":"a=b"}`},
		{name: "empty string", schema: closed, pairs: []string{"s="}, want: `{"s":""}`},
		{name: "repeated --arg appends", schema: closed, pairs: []string{"tags=a", "tags=b"}, want: `{"tags":["a","b"]}`},
		{name: "integer items typed", schema: closed, pairs: []string{"nums=1", "nums=2"}, want: `{"nums":[1,2]}`},
		{name: "JSON array replaces (string items)", schema: closed, pairs: []string{"tags=a", `tags=["x","y"]`}, want: `{"tags":["x","y"]}`},
		{name: "JSON array replaces (integer items)", schema: closed, pairs: []string{"nums=9", `nums=[1,2]`}, want: `{"nums":[1,2]}`},
		{name: "JSON array replaces (untyped items)", schema: closed, pairs: []string{"any=9", `any=[1,"two"]`}, want: `{"any":[1,"two"]}`},
		{name: "append after a JSON array", schema: closed, pairs: []string{`any=[1]`, "any=2"}, want: `{"any":[1,2]}`},
		{name: "object", schema: closed, pairs: []string{`obj={"k":1,"l":[true]}`}, want: `{"obj":{"k":1,"l":[true]}}`},
		{name: "type list integer|null", schema: closed, pairs: []string{"maybe=5"}, want: `{"maybe":5}`},
		{name: "type list null", schema: closed, pairs: []string{"maybe=null"}, want: `{"maybe":null}`},
		{name: "untyped takes JSON", schema: closed, pairs: []string{"free=[1,2]"}, want: `{"free":[1,2]}`},
		{name: "untyped falls back to string", schema: closed, pairs: []string{"free=hello"}, want: `{"free":"hello"}`},
		{name: "unknown allowed when additionalProperties is not false", schema: open, pairs: []string{"extra=7"}, want: `{"extra":7}`},
		{name: "no schema at all", schema: nil, pairs: []string{"k=v", "n=3"}, want: `{"k":"v","n":3}`},
		{name: "--args alone", schema: closed, json: `{"n":1,"s":"keep"}`, want: `{"n":1,"s":"keep"}`},
		{name: "--args merged, --arg overrides", schema: closed, json: `{"n":1,"s":"keep"}`, pairs: []string{"n=2", "b=true"}, want: `{"n":2,"s":"keep","b":true}`},
		{name: "--arg appends to an --args array", schema: closed, json: `{"tags":["a"]}`, pairs: []string{"tags=b"}, want: `{"tags":["a","b"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildArgs(tt.schema, tt.json, tt.pairs)
			if err != nil {
				t.Fatalf("buildArgs(%q, %q): %v", tt.json, tt.pairs, err)
			}
			if tt.want == "" {
				if got != nil {
					t.Fatalf("buildArgs = %s, want nil (no arguments)", got)
				}
				return
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatalf("buildArgs returned invalid JSON %s: %v", got, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &wantV); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("buildArgs(%q, %q) = %s (-want +got):\n%s", tt.json, tt.pairs, got, diff)
			}
		})
	}
}

func TestBuildArgsErrors(t *testing.T) {
	closed := schemaMap(t, argsSchema)
	tests := []struct {
		name  string
		json  string
		pairs []string
		want  []string // substrings of the error
	}{
		{name: "bad integer", pairs: []string{"n=abc"}, want: []string{`"n"`, "integer"}},
		{name: "fraction for integer", pairs: []string{"n=1.5"}, want: []string{`"n"`, "integer"}},
		{name: "bad number", pairs: []string{"x=lots"}, want: []string{`"x"`, "number"}},
		{name: "bad boolean", pairs: []string{"b=maybe"}, want: []string{`"b"`, "true or false"}},
		{name: "bad object", pairs: []string{"obj={nope"}, want: []string{`"obj"`, "JSON"}},
		{name: "bad array item", pairs: []string{"nums=x"}, want: []string{`"nums"`, "integer"}},
		{name: "bad type-list value", pairs: []string{"maybe=x"}, want: []string{`"maybe"`, "integer"}},
		{name: "unknown with additionalProperties false", pairs: []string{"nope=1"}, want: []string{`"nope"`, "b, free, maybe, n"}},
		{name: "not key=value", pairs: []string{"novalue"}, want: []string{"novalue", "key=value"}},
		{name: "empty key", pairs: []string{"=1"}, want: []string{"key=value"}},
		{name: "--args not an object", json: `[1,2]`, want: []string{"--args", "JSON object"}},
		{name: "--args not JSON", json: `{a:1}`, want: []string{"--args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildArgs(closed, tt.json, tt.pairs)
			if err == nil {
				t.Fatalf("buildArgs(%q, %q) = %s, want an error", tt.json, tt.pairs, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
