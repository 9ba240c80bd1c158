package mux

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// switchHider hides the whoami tool from agents named "restricted" while
// on is set.
type switchHider struct{ on *atomic.Bool }

func (switchHider) Name() string { return "switch" }
func (h switchHider) Hide(s callpath.Session, e callpath.Entry) *callpath.Verdict {
	if name, _ := s.Client(); h.on.Load() && name == "restricted" && e.Name == "whoami" {
		return callpath.Deny("switch", "whoami is switched off")
	}
	return nil
}

// TestCatalogViewPerSession lists and calls through two sessions that a
// catalog stage treats differently, and changes its mind while they are
// connected: the session it hides a tool from is told its list changed,
// no longer lists the tool, and is refused when it calls it; the other
// session is unaffected.
func TestCatalogViewPerSession(t *testing.T) {
	var on atomic.Bool
	g := New(&Options{Stages: []callpath.Stage{switchHider{&on}}})
	t.Cleanup(func() { g.Close() })
	g.Apply([]ServerSpec{{Name: "a", URL: remoteServer(t, false), Prefix: "a"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect := func(name string) (*mcp.ClientSession, chan struct{}) {
		changed := make(chan struct{}, 8)
		ct, st := mcp.NewInMemoryTransports()
		if _, err := g.server.Connect(ctx, st, nil); err != nil {
			t.Fatal(err)
		}
		c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
		})
		cs, err := c.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: ProtocolV20251125})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs, changed
	}
	names := func(cs *mcp.ClientSession) []string {
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tl := range res.Tools {
			out = append(out, tl.Name)
		}
		return out
	}
	restricted, changed := connect("restricted")
	other, _ := connect("other")
	if got := names(restricted); !slices.Contains(got, "a__whoami") {
		t.Fatalf("before: restricted lists %v", got)
	}
	for len(changed) > 0 {
		<-changed
	}

	on.Store(true)
	g.CatalogChanged()
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no tools/list_changed after CatalogChanged")
	}
	if got := names(restricted); slices.Contains(got, "a__whoami") {
		t.Errorf("after: restricted still lists %v", got)
	}
	if got := names(other); !slices.Contains(got, "a__whoami") {
		t.Errorf("after: the other session lost the tool: %v", got)
	}
	res, err := restricted.CallTool(ctx, &mcp.CallToolParams{Name: "a__whoami"})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "whoami is switched off") {
		t.Errorf("restricted calling the hidden tool: %+v, %v", res, err)
	}
	if res, err := other.CallTool(ctx, &mcp.CallToolParams{Name: "a__whoami"}); err != nil || res.IsError {
		t.Errorf("the other session calling it: %+v, %v", res, err)
	}
}
