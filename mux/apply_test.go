package mux

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestApplyNotifiesAgent wires an agent to the gateway in memory and
// changes the gateway's servers under it: each change reaches the agent as
// tools/list_changed, and the catalog follows.
func TestApplyNotifiesAgent(t *testing.T) {
	g := New(nil)
	defer g.Close()
	a, b := remoteServer(t, false), remoteServer(t, false)
	g.Apply([]ServerSpec{{Name: "a", URL: a, Prefix: "a"}})

	changed := make(chan struct{}, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	ct, st := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := g.server.Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: ProtocolV20251125})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	names := func() []string {
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tl := range res.Tools {
			out = append(out, tl.Name)
		}
		slices.Sort(out)
		return out
	}
	if got := names(); !slices.Equal(got, []string{"a__whoami"}) {
		t.Fatalf("tools = %v", got)
	}
	for _, step := range []struct {
		specs []ServerSpec
		want  []string
	}{
		{[]ServerSpec{{Name: "a", URL: a, Prefix: "a"}, {Name: "b", URL: b, Prefix: "b"}}, []string{"a__whoami", "b__whoami"}},
		{[]ServerSpec{{Name: "b", URL: b, Prefix: "b"}}, []string{"b__whoami"}},
		{[]ServerSpec{{Name: "b", URL: b, Prefix: "renamed"}}, []string{"renamed__whoami"}},
	} {
		for len(changed) > 0 {
			<-changed
		}
		g.Apply(step.specs)
		// At least one notification, then the catalog as expected.
		for notified := false; !notified || !slices.Equal(names(), step.want); {
			select {
			case <-changed:
				notified = true
			case <-ctx.Done():
				t.Fatalf("after Apply(%v): notified=%v, tools = %v, want %v", step.specs, notified, names(), step.want)
			}
		}
	}
}
