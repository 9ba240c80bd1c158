package mux

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
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

// TestSearchLimit: 8 results unless the caller asks, and never more than
// 50, over a catalog of 60 tools that all match.
func TestSearchLimit(t *testing.T) {
	g := New(nil)
	defer g.Close()
	var tools []*mcp.Tool
	for i := range 60 {
		tools = append(tools, &mcp.Tool{Name: fmt.Sprintf("widget_%d", i), Description: "Makes a widget.", InputSchema: map[string]any{"type": "object"}})
	}
	c := catalog.Merge(nil, []catalog.Source{{Server: "s", Prefix: "s", Snap: &catalog.Snapshot{Tools: tools}}})
	g.rebuildMu.Lock()
	g.cat.Store(c)
	g.syncTools(c)
	g.rebuildMu.Unlock()
	a := &agentSession{g: g, cli: true}
	for _, tc := range []struct {
		args string
		want int
	}{{`{"query":"widget"}`, 8}, {`{"query":"widget","limit":3}`, 3}, {`{"query":"widget","limit":500}`, 50}} {
		res := g.searchTools(context.Background(), a, json.RawMessage(tc.args))
		var out struct{ Tools []SearchHit }
		if err := json.Unmarshal(res.StructuredContent.(json.RawMessage), &out); err != nil || len(out.Tools) != tc.want {
			t.Errorf("%s: %d results (%v); want %d", tc.args, len(out.Tools), err, tc.want)
		}
	}
	if res := g.searchTools(context.Background(), a, json.RawMessage(`{"query":"  "}`)); !res.IsError {
		t.Error("an empty query is not refused")
	}
}
