package mux

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// ServerStatus is one server's state as `mcpgw tools` shows it.
type ServerStatus struct {
	Name            string    `json:"name"`
	State           string    `json:"state"`
	Since           time.Time `json:"since"`
	Error           string    `json:"error,omitempty"`
	ProtocolVersion string    `json:"protocolVersion,omitempty"`
	Tools           int       `json:"tools"`
	Prompts         int       `json:"prompts"`
	Resources       int       `json:"resources"`
	Restarts        int       `json:"restarts"`
	PID             int       `json:"pid,omitempty"`    // the server process, when one runs
	Stderr          []string  `json:"stderr,omitempty"` // its last stderr lines, redacted
}

// CatalogView is the merged catalog exactly as an agent sees it, with each
// server's status and any collisions.
type CatalogView struct {
	Tools      []catalog.ExposedTool `json:"tools"`
	Servers    []ServerStatus        `json:"servers"`
	Collisions []catalog.Collision   `json:"collisions"`
	// Hidden are the tools catalog stages (policy) hide from the CLI's
	// session, which Tools leaves out as an agent's list would.
	Hidden []HiddenTool `json:"hidden,omitempty"`
}

// HiddenTool is a tool a catalog stage hides, and why.
type HiddenTool struct {
	Name   string `json:"name"`
	Server string `json:"server"`
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// downstreams returns the servers in config order.
func (g *Gateway) downstreams() []*downstream {
	g.mu.Lock()
	defer g.mu.Unlock()
	ds := make([]*downstream, 0, len(g.order))
	for _, name := range g.order {
		ds = append(ds, g.servers[name])
	}
	return ds
}

// View starts the servers if needed, waits for their first attempt (within
// ctx), and returns the merged catalog.
func (g *Gateway) View(ctx context.Context) (*CatalogView, error) {
	g.Start("", nil)
	g.startLazy() // the CLI shows and calls every server
	if err := g.WaitStarted(ctx); err != nil {
		return nil, err
	}
	return g.Current(), nil
}

// Current returns the merged catalog as it stands, starting and waiting for
// nothing: before servers start, what the catalog cache holds of them. The
// CLI uses it to choose which servers a command needs, to show which are
// still starting, and for shell completion.
func (g *Gateway) Current() *CatalogView {
	c := g.cat.Load()
	v := &CatalogView{Tools: c.Tools(), Collisions: c.Collisions()}
	if g.chain.FiltersCatalog() {
		cli := &agentSession{g: g, cli: true}
		var shown []catalog.ExposedTool
		for _, t := range v.Tools {
			e, ok := c.Tool(t.Tool.Name)
			if !ok {
				shown = append(shown, t)
				continue
			}
			if h := g.chain.Hide(cli, toolEntry(e)); h != nil {
				v.Hidden = append(v.Hidden, HiddenTool{Name: t.Tool.Name, Server: t.Server, Rule: h.Rule, Reason: h.Reason})
				continue
			}
			shown = append(shown, t)
		}
		v.Tools = shown
	}
	if v.Tools == nil {
		v.Tools = []catalog.ExposedTool{}
	}
	if v.Collisions == nil {
		v.Collisions = []catalog.Collision{}
	}
	for _, d := range g.downstreams() {
		v.Servers = append(v.Servers, d.status())
	}
	return v
}

// StatusStore keeps what a gateway sees of its servers where other
// processes can read it; [logs.DB] is one. One gateway per process writes
// to it: rows are keyed by process id.
type StatusStore interface {
	SaveServerStatus(ctx context.Context, gw logs.Gateway, rows []logs.ServerStatus) error
	DeleteServerStatus(ctx context.Context, pid int) error
}

// Status rows are written this long after a change (a burst of changes,
// such as 20 servers starting, becomes one write) and at least this often
// (so a reader can tell a live gateway from a wedged one by Updated).
const (
	statusSettle    = 100 * time.Millisecond
	statusHeartbeat = 30 * time.Second
	statusStderr    = 10 // stderr lines kept per server in the record
)

// statusWriter writes the gateway's server status to a [StatusStore] in
// the background; a status write never delays a call or a state change.
type statusWriter struct {
	g     *Gateway
	store StatusStore
	self  logs.Gateway
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newStatusWriter(g *Gateway, store StatusStore, config string) *statusWriter {
	if store == nil {
		return nil
	}
	pid := os.Getpid()
	w := &statusWriter{
		g:     g,
		store: store,
		self:  logs.Gateway{PID: pid, Started: proc.StartTime(pid), Config: config},
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go w.loop()
	return w
}

// changed asks for a write soon; it never blocks.
func (w *statusWriter) changed() {
	if w == nil {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *statusWriter) loop() {
	defer close(w.done)
	beat := time.NewTicker(statusHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-beat.C:
		case <-w.kick:
			select {
			case <-w.stop:
				return
			case <-time.After(statusSettle):
			}
		}
		w.save()
	}
}

func (w *statusWriter) save() {
	rows := w.g.statusRows()
	gw := w.self
	gw.Agent = w.g.agentName()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.store.SaveServerStatus(ctx, gw, rows); err != nil {
		w.g.logger.Warn("server status not recorded", "err", err)
	}
}

// close stops writing and removes this gateway's rows: a gateway that is
// gone has no status.
func (w *statusWriter) close() {
	if w == nil {
		return
	}
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.store.DeleteServerStatus(ctx, w.self.PID); err != nil {
			w.g.logger.Warn("server status not removed", "err", err)
		}
	})
}

// statusRows is every server's status as the record keeps it.
func (g *Gateway) statusRows() []logs.ServerStatus {
	var rows []logs.ServerStatus
	for _, d := range g.downstreams() {
		st := d.status()
		r := logs.ServerStatus{
			Server:    st.Name,
			State:     st.State,
			Since:     st.Since,
			ServerPID: st.PID,
			Restarts:  st.Restarts,
			LastError: st.Error,
			Stderr:    st.Stderr,
		}
		if len(r.Stderr) > statusStderr {
			r.Stderr = r.Stderr[len(r.Stderr)-statusStderr:]
		}
		if r.ServerPID != 0 {
			r.ServerStarted = proc.StartTime(r.ServerPID)
		}
		rows = append(rows, r)
	}
	return rows
}

// agentName is the first connected agent's client name and version.
func (g *Gateway) agentName() string {
	for ss := range g.server.Sessions() {
		if p := ss.InitializeParams(); p != nil && p.ClientInfo != nil {
			if p.ClientInfo.Version != "" {
				return p.ClientInfo.Name + " " + p.ClientInfo.Version
			}
			return p.ClientInfo.Name
		}
	}
	return ""
}
