package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestExposedName(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		prefix, name, want string
	}{
		{"everything", "echo", "everything__echo"},
		{"", "echo", "echo"},
		{"fs", "read.file", "fs__read_file"},
		{"fs", "read file/ü", "fs__read_file___"},
		{"a", "b-c_D9", "a__b-c_D9"},
	}
	for _, tt := range tests {
		if got := ExposedName(tt.prefix, tt.name); got != tt.want {
			t.Errorf("ExposedName(%q, %q) = %q, want %q", tt.prefix, tt.name, got, tt.want)
		}
	}
	got := ExposedName("srv", long)
	if len(got) != MaxNameLen {
		t.Errorf("long name: len %d, want %d (%q)", len(got), MaxNameLen, got)
	}
	if got != ExposedName("srv", long) {
		t.Error("shortening is not deterministic")
	}
	if other := ExposedName("srv", long+"y"); other == got {
		t.Errorf("two long names that differ only past the limit both became %q", got)
	}
	if !strings.HasPrefix(got, "srv__xxx") {
		t.Errorf("shortened name %q lost its readable head", got)
	}
	for _, c := range got {
		if !nameByte(byte(c)) {
			t.Fatalf("shortened name %q has %q", got, c)
		}
	}
}

func TestMergeCatalogCollisions(t *testing.T) {
	tool := func(name string) *mcp.Tool {
		return &mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}
	}
	servers := []Source{
		{Server: "a", Prefix: "", Snap: &Snapshot{
			Tools:     []*mcp.Tool{tool("search"), tool("read.file")},
			Resources: []*mcp.Resource{{URI: "file:///x"}},
		}},
		{Server: "b", Prefix: "", Snap: &Snapshot{
			Tools:     []*mcp.Tool{tool("search"), tool("read_file"), tool("other")},
			Resources: []*mcp.Resource{{URI: "file:///x"}, {URI: "file:///y"}},
		}},
	}
	c := Merge(nil, servers)
	var names []string
	for _, t := range c.tools {
		names = append(names, t.Server+":"+t.Tool.Name)
	}
	if diff := cmp.Diff([]string{"a:search", "a:read_file", "b:other"}, names); diff != "" {
		t.Errorf("merged tools (-want +got):\n%s", diff)
	}
	want := []Collision{
		{Kind: "tool", Name: "search", Kept: "a", Hidden: "b", Original: "search"},
		{Kind: "tool", Name: "read_file", Kept: "a", Hidden: "b", Original: "read_file"},
		{Kind: "resource", Name: "file:///x", Kept: "a", Hidden: "b"},
	}
	if diff := cmp.Diff(want, c.collisions); diff != "" {
		t.Errorf("collisions (-want +got):\n%s", diff)
	}
	if r, _ := c.Tool("read_file"); r.Server != "a" || r.Original != "read.file" {
		t.Errorf("route read_file = %+v, want a/read.file", r)
	}
	if owner, _ := c.ResourceOwner("file:///y"); owner != "b" {
		t.Errorf("file:///y owner = %q, want b", owner)
	}
}

func TestExposeToolNormalizesSchema(t *testing.T) {
	for _, schema := range []any{nil, map[string]any{"type": "string"}, map[string]any{"properties": map[string]any{}}} {
		got := exposeTool(&mcp.Tool{Name: "t", InputSchema: schema}, "s__t")
		if m, _ := got.InputSchema.(map[string]any); m["type"] != "object" {
			t.Errorf("schema %v became %v, want type object", schema, got.InputSchema)
		}
	}
}

func TestFilterTools(t *testing.T) {
	tools := []*mcp.Tool{{Name: "search_web"}, {Name: "search_admin"}, {Name: "admin_reset"}, {Name: "echo"}}
	got := FilterTools(tools, []string{"search_*", "admin_*"}, []string{"admin_*", "*_admin"})
	var names []string
	for _, t := range got {
		names = append(names, t.Name)
	}
	if diff := cmp.Diff([]string{"search_web"}, names); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
}

// TestToolEntriesReused checks that a merge reuses what an earlier one
// encoded for the same tool, and re-encodes a tool whose prefix changed.
func TestToolEntriesReused(t *testing.T) {
	tool := &mcp.Tool{Name: "t", InputSchema: map[string]any{"type": "object"}}
	snap := &Snapshot{Tools: []*mcp.Tool{tool}}
	a := Merge(nil, []Source{{Server: "s", Prefix: "s", Snap: snap}})
	b := Merge(a, []Source{{Server: "s", Prefix: "s", Snap: snap}})
	if a.Entries()[0] != b.Entries()[0] {
		t.Error("the same tool was encoded again")
	}
	c := Merge(b, []Source{{Server: "s", Prefix: "x", Snap: snap}})
	if e := c.Entries()[0]; e.Name != "x__t" || !strings.Contains(string(e.Data), `"name":"x__t"`) {
		t.Errorf("after a prefix change: %s", e.Data)
	}
}

// TestListingAnswerBadCursor answers an invalid cursor as the SDK does.
func TestListingAnswerBadCursor(t *testing.T) {
	_, err := NewListing(nil, nil).Answer("not a cursor", true)
	if b, _ := json.Marshal(err); err == nil || !strings.Contains(string(b), `"code":-32602`) {
		t.Fatalf("err = %v, want invalid params", err)
	}
}

// TestListingFilter keeps the entries asked for, in order, and pages over
// them with the encodings it was given.
func TestListingFilter(t *testing.T) {
	var tools []*mcp.Tool
	for i := range mcp.DefaultPageSize + 3 {
		tools = append(tools, &mcp.Tool{Name: fmt.Sprintf("t%03d", i), InputSchema: map[string]any{"type": "object"}})
	}
	c := Merge(nil, []Source{{Server: "s", Snap: &Snapshot{Tools: tools}}})
	l := NewListing(c.Entries(), nil)
	odd := l.Filter(func(e *ToolEntry) bool { return e.Name[len(e.Name)-1]%2 == 1 })
	if odd.Len() != (mcp.DefaultPageSize+3)/2 || odd.Has("t000") || !odd.Has("t001") {
		t.Fatalf("filtered listing has %d tools", odd.Len())
	}
	res, err := odd.Answer("", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var page mcp.ListToolsResult
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Tools) != odd.Len() || page.Tools[0].Name != "t001" || page.NextCursor != "" {
		t.Errorf("page: %d tools, first %q, next %q", len(page.Tools), page.Tools[0].Name, page.NextCursor)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"fx__echo", "fx__add", "mem__echo", "fs__read_file", "search"}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"echo", []string{"fx__echo", "mem__echo"}},
		{"fx__ech", []string{"fx__echo"}},
		{"fs__read_fiel", []string{"fs__read_file"}},
		{"serch", []string{"search"}},
		{"nothing_like_it", nil},
	} {
		if got := Suggest(tc.name, names); !slices.Equal(got, tc.want) {
			t.Errorf("Suggest(%q) = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestInstructions(t *testing.T) {
	c := Merge(nil, []Source{
		{Server: "b", Snap: &Snapshot{Instructions: "Use b for search.\n"}},
		{Server: "none", Snap: &Snapshot{}},
		{Server: "a", Snap: &Snapshot{Instructions: "  Call a first.  "}},
	})
	// Each server's text as it wrote it, whitespace and all.
	if want := "## b\n\nUse b for search.\n\n\n## a\n\n  Call a first.  "; c.Instructions() != want {
		t.Errorf("Instructions() = %q; want %q", c.Instructions(), want)
	}
	if got := Merge(nil, nil).Instructions(); got != "" {
		t.Errorf("no servers: %q", got)
	}
}

func TestRenamed(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"name":"echo","inputSchema":{"type":"object","properties":{"name":{"type":"string"}}}}`, `{"name":"fx__echo","inputSchema":{"type":"object","properties":{"name":{"type":"string"}}}}`},
		{`{"description":"name: \"x\"","execution":{"taskSupport":"optional"}, "name" : "echo","title":"name"}`, `{"description":"name: \"x\"","execution":{"taskSupport":"optional"}, "name" : "fx__echo","title":"name"}`},
		{`{"inputSchema":{"name":"inner"},"name":"e\"cho"}`, `{"inputSchema":{"name":"inner"},"name":"fx__echo"}`},
	} {
		got, err := renamed([]byte(tc.in), "fx__echo")
		if err != nil || string(got) != tc.want {
			t.Errorf("renamed(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"title":"x","nested":{"name":"y"}}`, `{"name":{"first":"a"},"title":"b"}`, `{"name":7}`} {
		if _, err := renamed([]byte(bad), "z"); err == nil {
			t.Errorf("renamed %s, which has no name string", bad)
		}
	}
}

// TestRawToolsKept shows the agent a tool as the server encoded it, but for
// its name: key order and fields the SDK does not know (execution) kept.
func TestRawToolsKept(t *testing.T) {
	raw := json.RawMessage(`{"name":"research","inputSchema":{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"number"}}},"execution":{"taskSupport":"required"}}`)
	var tool mcp.Tool
	if err := json.Unmarshal(raw, &tool); err != nil {
		t.Fatal(err)
	}
	c := Merge(nil, []Source{{Server: "ev", Prefix: "ev", Snap: &Snapshot{Tools: []*mcp.Tool{&tool}, RawTools: map[*mcp.Tool]json.RawMessage{&tool: raw}}}})
	want := `{"name":"ev__research","inputSchema":{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"number"}}},"execution":{"taskSupport":"required"}}`
	if got := string(c.Entries()[0].Data); got != want {
		t.Errorf("listed as %s; want %s", got, want)
	}
}
