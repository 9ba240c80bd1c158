package mux

import (
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
	servers := []serverSnap{
		{name: "a", prefix: "", snap: &snapshot{
			tools:     []*mcp.Tool{tool("search"), tool("read.file")},
			resources: []*mcp.Resource{{URI: "file:///x"}},
		}},
		{name: "b", prefix: "", snap: &snapshot{
			tools:     []*mcp.Tool{tool("search"), tool("read_file"), tool("other")},
			resources: []*mcp.Resource{{URI: "file:///x"}, {URI: "file:///y"}},
		}},
	}
	c := mergeCatalog(servers)
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
	if r := c.toolRoutes["read_file"]; r.server != "a" || r.name != "read.file" {
		t.Errorf("route read_file = %+v, want a/read.file", r)
	}
	if c.resOwner["file:///y"] != "b" {
		t.Errorf("file:///y owner = %q, want b", c.resOwner["file:///y"])
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
	got := filterTools(tools, []string{"search_*", "admin_*"}, []string{"admin_*", "*_admin"})
	var names []string
	for _, t := range got {
		names = append(names, t.Name)
	}
	if diff := cmp.Diff([]string{"search_web"}, names); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
}

func TestRequestStateSigning(t *testing.T) {
	key := []byte("k")
	st := signState(key, "abc")
	if got, ok := verifyState(key, st); !ok || got != "abc" {
		t.Fatalf("verifyState(own) = %q, %v", got, ok)
	}
	if _, ok := verifyState([]byte("other"), st); ok {
		t.Error("state verified under another key")
	}
	if _, ok := verifyState(key, strings.Replace(st, "abc", "abd", 1)); ok {
		t.Error("tampered state verified")
	}
	if _, ok := verifyState(key, "server-state"); ok {
		t.Error("a server's own state was taken for mcpgw's")
	}
}
