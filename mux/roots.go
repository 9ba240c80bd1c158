package mux

// The agent's roots, as servers see them. Servers ask mcpgw (roots/list)
// and mcpgw answers from the agent's last answer, which it asks for when
// the agent has initialized, when it says its roots changed, and, while no
// answer has come (an HTTP agent whose stream is not connected yet), on the
// agent's next request. A server that asks before the agent has answered
// waits for that answer instead of hearing "no roots". When the roots
// change, each server is told once.
//
// The SDK's client would answer roots/list itself from roots added to it,
// but its AddRoots and RemoveRoots each notify the server, so replacing one
// root with another told servers twice; its roots are not used.

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// rootsWait bounds how long a server's roots/list waits for the agent's
// first answer.
const rootsWait = 10 * time.Second

// rootsChanged is the one root downstream clients hold: adding it again is
// how a client tells its server the roots changed (once), with the public
// API; servers never see it, since roots/list is answered here.
var rootsChanged = &mcp.Root{URI: "mcpgw:roots-changed", Name: "unused"}

// agentRoots is the agent's roots and the clients to tell of changes.
type agentRoots struct {
	mu    sync.Mutex
	roots []*mcp.Root
	known chan struct{} // closed once the agent has answered
	// ask serializes requests for the agent's roots: each change the agent
	// reports is asked about in turn, and its answer kept in order.
	ask     sync.Mutex
	clients map[*mcp.Client]bool
	// guessed: a server was answered before the agent had (after
	// rootsWait), so the first answer is news to it.
	guessed bool
}

func (r *agentRoots) init() {
	r.known = make(chan struct{})
	r.clients = map[*mcp.Client]bool{}
}

// isKnown reports whether the agent has answered.
func (r *agentRoots) isKnown() bool {
	select {
	case <-r.known:
		return true
	default:
		return false
	}
}

// answer is the roots/list answer for a server: the agent's roots, once
// it has said what they are (within rootsWait).
func (r *agentRoots) answer(ctx context.Context) (*mcp.ListRootsResult, error) {
	ctx, cancel := context.WithTimeout(ctx, rootsWait)
	defer cancel()
	select {
	case <-r.known:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.isKnown() {
		r.guessed = true
	}
	return &mcp.ListRootsResult{Roots: slices.Clone(r.roots)}, nil
}

// set keeps the agent's answer and tells every server once if it changed.
// The first answer changes nothing for servers: one that asked was waiting
// for it, one that has not will ask (as directly, where a server hears of
// roots changing only when the agent says so), unless a server was given
// no roots for want of an answer.
func (r *agentRoots) set(roots []*mcp.Root) {
	if roots == nil {
		roots = []*mcp.Root{}
	}
	r.mu.Lock()
	first := !r.isKnown()
	changed := first && r.guessed || !first && !slices.EqualFunc(r.roots, roots, func(a, b *mcp.Root) bool { return reflect.DeepEqual(a, b) })
	r.roots = roots
	if first {
		close(r.known)
	}
	clients := make([]*mcp.Client, 0, len(r.clients))
	for c := range r.clients {
		clients = append(clients, c)
	}
	r.mu.Unlock()
	if !changed {
		return
	}
	for _, c := range clients {
		c.AddRoots(rootsChanged)
	}
}

// add registers a downstream client to tell of changes; it must be called
// before the client connects (AddRoots before a session exists notifies
// nobody).
func (r *agentRoots) add(c *mcp.Client) {
	c.AddRoots(rootsChanged)
	r.mu.Lock()
	r.clients[c] = true
	r.mu.Unlock()
}

func (r *agentRoots) remove(c *mcp.Client) {
	r.mu.Lock()
	delete(r.clients, c)
	r.mu.Unlock()
}

// askAgentRoots asks the agent session ss for its roots, within ctx: over
// HTTP the request travels on the stream of the agent's request ctx
// belongs to. Only older agents with the roots capability are asked. With
// ifUnknown, an agent that has answered already is not asked again.
func (g *Gateway) askAgentRoots(ctx context.Context, ss *mcp.ServerSession, ifUnknown bool) {
	if ss == nil || agentCaps(ss).RootsV2 == nil || agentSpeaksNew(ss) {
		return
	}
	r := &g.roots
	r.ask.Lock()
	defer r.ask.Unlock()
	if ifUnknown && r.isKnown() {
		return
	}
	res, err := ss.ListRoots(ctx, nil)
	if err != nil {
		g.logger.Debug("listing the agent's roots; asking again on its next request", "err", err)
		return
	}
	r.set(res.Roots)
}

// askAgentRootsAsync asks for the agent's roots in the background: as the
// agent initializes (ifUnknown: its next request may have asked already)
// and whenever it says they changed.
func (g *Gateway) askAgentRootsAsync(ss *mcp.ServerSession, ifUnknown bool) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), defaultConnectTimeout)
		defer cancel()
		g.askAgentRoots(ctx, ss, ifUnknown)
	}()
}
