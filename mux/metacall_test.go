package mux

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnwrapCall(t *testing.T) {
	for _, tc := range []struct {
		args, name, inner, err string
	}{
		{args: `{"name":"fx__echo","arguments":{"text":"hi"}}`, name: "fx__echo", inner: `{"text":"hi"}`},
		{args: `{"name":"fx__echo"}`, name: "fx__echo"},
		{args: `{"name":"fx__echo","arguments":null}`, name: "fx__echo"},
		{args: `{"name":"fx__echo","arguments":[1]}`, err: "arguments must be an object"},
		{args: `{"arguments":{}}`, err: "name the tool to call"},
		{args: `[]`, err: `takes {"name": TOOL`},
		{args: ``, err: `takes {"name": TOOL`},
	} {
		name, inner, err := unwrapCall(json.RawMessage(tc.args))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v; want it to say %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || name != tc.name || string(inner) != tc.inner {
			t.Errorf("%s: %q %s %v; want %q %s", tc.args, name, inner, err, tc.name, tc.inner)
		}
	}
}

func TestIsMetaCall(t *testing.T) {
	for name, want := range map[string]bool{
		SearchToolsTool: true, DescribeToolTool: true, CallToolTool: true,
		"mcpgw__other": false, "fx__echo": false, "mcpgw__": false, "": false,
	} {
		if got := isMetaCall(name); got != want {
			t.Errorf("isMetaCall(%q) = %v", name, got)
		}
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Test fixture for mcpgw. Tools do things.": "Test fixture for mcpgw.",
		"  One line\nsecond line":                  "One line",
		strings.Repeat("é", 150):                   strings.Repeat("é", 98) + "...",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q; want %q", in, got, want)
		}
	}
}
