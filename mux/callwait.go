package mux

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// waitForCall waits, before the servers have settled, only for what one
// call needs. A tool the catalog (live or cached) already routes goes on at
// once: its server's session waits for that server's own start, so a
// server that hangs on initialize delays only its own calls. A name no
// server lists yet may come from one still starting: that waits for every
// first attempt. Either way the gateway settles in the background, which
// turns the fast path on.
func (g *Gateway) waitForCall(ctx context.Context, req mcp.Request) error {
	if r, ok := req.(*mcp.CallToolRequest); ok {
		if g.cat.Load().HasTool(r.Params.Name) {
			g.startHeld() // a call needs servers now
			g.settleOnce.Do(func() {
				go g.WaitStarted(context.Background())
			})
			return nil
		}
	}
	return g.WaitStarted(ctx)
}
