package mux

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// remoteServer serves a small MCP server over HTTP whose "whoami" tool
// answers "team=" and the X-Team header every request to it carried (or
// "mixed" when they differed).
func remoteServer(t *testing.T, sse bool) string {
	var mu sync.Mutex
	seen := map[string]bool{}
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	s.AddTool(&mcp.Tool{Name: "whoami", InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			mu.Lock()
			team := "mixed"
			if len(seen) == 1 {
				for k := range seen {
					team = k
				}
			}
			mu.Unlock()
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "team=" + team}}}, nil
		})
	var h http.Handler
	if sse {
		h = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, nil)
	} else {
		h = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-Team")] = true
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRemoteServers fronts remote servers over streamable HTTP and legacy
// SSE, with configured headers on every request.
func TestRemoteServers(t *testing.T) {
	g := New(nil)
	defer g.Close()
	g.Apply([]ServerSpec{
		{Name: "web", URL: remoteServer(t, false), Headers: map[string]string{"X-Team": "data"}, Prefix: "web"},
		{Name: "old", URL: remoteServer(t, true), Transport: "sse", Headers: map[string]string{"X-Team": "legacy"}, Prefix: "old"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	view, err := g.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range view.Servers {
		if st.State != StateReady {
			t.Fatalf("server %s is %s: %s", st.Name, st.State, st.Error)
		}
	}
	for name, want := range map[string]string{"web__whoami": "team=data", "old__whoami": "team=legacy"} {
		res, err := g.CallTool(ctx, name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := res.Content[0].(*mcp.TextContent).Text; got != want {
			t.Errorf("%s = %q, want %q (headers must reach the server)", name, got, want)
		}
	}
}

// TestUnreachableServerIsReported checks that a server that cannot be
// reached fails alone, with a reason, while the others serve.
func TestUnreachableServerIsReported(t *testing.T) {
	g := New(nil)
	defer g.Close()
	g.Apply([]ServerSpec{
		{Name: "gone", URL: "http://127.0.0.1:1/mcp", Prefix: "gone", ConnectTimeout: 5 * time.Second},
		{Name: "missing", Command: "/nonexistent/mcp-server", Prefix: "missing"},
		{Name: "web", URL: remoteServer(t, false), Prefix: "web"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	view, err := g.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]ServerStatus{}
	for _, st := range view.Servers {
		states[st.Name] = st
	}
	if st := states["web"]; st.State != StateReady {
		t.Errorf("web is %s: %s", st.State, st.Error)
	}
	for _, name := range []string{"gone", "missing"} {
		if st := states[name]; st.State != StateFailed || st.Error == "" {
			t.Errorf("%s: state %s error %q; want failed with a reason", name, st.State, st.Error)
		}
	}
	res, err := g.CallTool(ctx, "web__whoami", nil)
	if err != nil || res.IsError {
		t.Errorf("web__whoami with a broken neighbour: %v %v", res, err)
	}
}
