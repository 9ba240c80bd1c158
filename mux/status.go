package mux

import (
	"context"
)

// ServerStatus is one server's state as `mcpgw tools` shows it.
type ServerStatus struct {
	Name            string `json:"name"`
	State           string `json:"state"`
	Error           string `json:"error,omitempty"`
	ProtocolVersion string `json:"protocolVersion,omitempty"`
	Tools           int    `json:"tools"`
	Prompts         int    `json:"prompts"`
	Resources       int    `json:"resources"`
	Restarts        int    `json:"restarts"`
}

// CatalogView is the merged catalog exactly as an agent sees it, with each
// server's status and any collisions.
type CatalogView struct {
	Tools      []ExposedTool  `json:"tools"`
	Servers    []ServerStatus `json:"servers"`
	Collisions []Collision    `json:"collisions"`
}

// View starts the servers if needed, waits for their first attempt (within
// ctx), and returns the merged catalog.
func (g *Gateway) View(ctx context.Context) (*CatalogView, error) {
	g.Start("", nil)
	g.startLazy() // the CLI shows and calls every server
	if err := g.WaitStarted(ctx); err != nil {
		return nil, err
	}
	c := g.cat.Load()
	v := &CatalogView{Tools: c.tools, Collisions: c.collisions}
	if v.Tools == nil {
		v.Tools = []ExposedTool{}
	}
	if v.Collisions == nil {
		v.Collisions = []Collision{}
	}
	g.mu.Lock()
	ds := make([]*downstream, 0, len(g.order))
	for _, name := range g.order {
		ds = append(ds, g.servers[name])
	}
	g.mu.Unlock()
	for _, d := range ds {
		v.Servers = append(v.Servers, d.status())
	}
	return v, nil
}
