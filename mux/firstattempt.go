package mux

import "context"

// FirstAttempts starts the servers if needed (lazy ones too), waits for
// each one's first attempt to end (within ctx), and returns each server's
// status as that attempt left it: how `mcpgw doctor` reports a start. A
// server that failed is soon restarted, so the state as it is now may
// already be the next attempt's, without the first one's error. On ctx's
// end, the servers still on their first attempt are reported as they are.
func (g *Gateway) FirstAttempts(ctx context.Context) ([]ServerStatus, error) {
	g.Start("", nil)
	g.startLazy()
	err := g.WaitStarted(ctx)
	var out []ServerStatus
	for _, d := range g.downstreams() {
		d.mu.Lock()
		first := d.first
		d.mu.Unlock()
		if first != nil {
			out = append(out, *first)
		} else {
			out = append(out, d.status())
		}
	}
	return out, err
}
