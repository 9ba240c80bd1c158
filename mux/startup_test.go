package mux

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// memCache is a CatalogCache in memory.
type memCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *memCache) LoadCatalog(server, fp string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[server+"/"+fp]
	return b, ok
}

func (c *memCache) SaveCatalog(server, fp string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[server+"/"+fp] = b
}

func started(d *downstream) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state != StateIdle
}

// waitStarted waits, a second at most, for d to start.
func waitStarted(t *testing.T, d *downstream) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !started(d); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not started a second after the list was answered")
		}
	}
}

// TestHeldStart checks when servers with cached catalogs start: after the
// first list answer is written to a stdio agent, when a request needs
// them, or after heldStartMax; and at once when one has no cache.
func TestHeldStart(t *testing.T) {
	url := remoteServer(t, false)
	spec := ServerSpec{Name: "a", URL: url, Prefix: "a"}
	cache := &memCache{m: map[string][]byte{}}
	// One run to fill the cache.
	g := New(&Options{CatalogCache: cache})
	g.Apply([]ServerSpec{spec})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := g.View(ctx); err != nil {
		t.Fatal(err)
	}
	g.Close()

	for _, tc := range []struct {
		name    string
		setup   func(g *Gateway)
		release func(g *Gateway)
	}{
		{"list answered", func(g *Gateway) {
			// Only the list can start it here.
			g.held.afterList, g.held.max = 0, time.Hour
		}, func(g *Gateway) {
			g.answerWritten(&jsonrpc.Response{}) // an answer before the list: not yet
			if started(g.downstream("a")) {
				t.Error("started before the list was answered")
			}
			g.listAnswered()
			g.answerWritten(&jsonrpc.Response{})
			waitStarted(t, g.downstream("a"))
		}},
		{"request needs a server", nil, func(g *Gateway) {
			if err := g.WaitStarted(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"timer", nil, func(g *Gateway) { time.Sleep(2 * heldStartMax) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(&Options{CatalogCache: cache})
			defer g.Close()
			g.held.watched.Store(true) // as ServeStdio's fast front does
			if tc.setup != nil {
				tc.setup(g)
			}
			g.Apply([]ServerSpec{spec})
			g.Start(ProtocolV20251125, nil)
			if started(g.downstream("a")) {
				t.Fatal("a server with a cached catalog started before the first list")
			}
			tc.release(g)
			if !started(g.downstream("a")) {
				t.Fatal("not started")
			}
		})
	}

	t.Run("not cached", func(t *testing.T) {
		g := New(&Options{CatalogCache: &memCache{m: map[string][]byte{}}})
		defer g.Close()
		g.held.watched.Store(true)
		g.Apply([]ServerSpec{spec})
		g.Start(ProtocolV20251125, nil)
		if !started(g.downstream("a")) {
			t.Fatal("a server without a cached catalog was held back")
		}
	})
}

// TestSettled: Settled stays open while the gateway has not started its
// servers, and closes once every eager server's first attempt has ended.
func TestSettled(t *testing.T) {
	g := New(&Options{})
	defer g.Close()
	g.Apply([]ServerSpec{{Name: "a", URL: remoteServer(t, false), Prefix: "a"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.WaitStarted(ctx); err != nil { // not started: nothing to wait for
		t.Fatal(err)
	}
	select {
	case <-g.Settled():
		t.Fatal("settled before any server started")
	default:
	}
	g.Start(ProtocolV20251125, nil)
	if err := g.WaitStarted(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.Settled():
	default:
		t.Fatal("not settled once the server's first attempt ended")
	}
}
