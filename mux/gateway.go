package mux

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// Gateway merges many downstream MCP servers behind one upstream MCP server.
// Create one with [New], feed it server specs with [Gateway.Apply], and
// serve agents with [Gateway.ServeStdio] or [Gateway.HTTPHandler].
type Gateway struct {
	opts   Options
	logger *slog.Logger
	server *mcp.Server
	chain  *callpath.Chain
	// inlineAnswers: no stage looks at results, or only inline ones, so the
	// fast path may answer from the server's reader (see fastinline.go).
	inlineAnswers bool

	mu      sync.Mutex
	servers map[string]*downstream
	order   []string
	startup // when servers start, and what waits for them (startup.go)

	rebuildMu sync.Mutex
	cat       atomic.Pointer[catalog.Catalog]
	applied   appliedCatalog
	listing   atomic.Pointer[catalog.Listing] // the tools/list answer (toollist.go)
	views     sync.Map                        // viewKey → *toolView (view.go)
	viewGen   atomic.Uint64                   // bumped by CatalogChanged
	// search is the tool search index; searchViews the search-mode
	// listings, by viewKey (search.go).
	search      searchState
	searchViews sync.Map

	roots      agentRoots    // what the agent says its roots are (roots.go)
	cancelled  cancellations // agent requests cancelled on the SDK path (cancelled.go)
	httpAsks   httpAsks      // raw elicitations sent to HTTP agents (elicithttp.go)
	rawStreams rawStreams    // the HTTP session fast path's calls and their requests (httpsession.go)

	callers sessionCallers // authenticated HTTP sessions' callers (auth.go)

	logLevel atomic.Pointer[mcp.LoggingLevel] // last logging/setLevel from an agent
	progress progressRoutes
	links    linkOwners
	inputs   pendingInputs
	heldAsks heldCalls
	logins   loginInputs // logins through 2026-07-28 agents (logininput.go)
	stateKey []byte
	secrets  *guard.Known // values resolved for servers, masked in their output
	// sessionTag names this process's stdio session in the record (the SDK
	// gives stdio sessions no id).
	sessionTag string
	saves      sync.WaitGroup // catalog cache writes in progress
	cacheSums  sync.Map       // server name and fingerprint → sha256 of its cached catalog
	spawns     chan struct{}  // slots for servers starting at once
	status     *statusWriter  // nil when Options.Status is
	// stdioAgent is the agent of ServeStdio, whose identity stdio servers
	// get in their environment (identity.go); stdioMode: ServeStdio runs;
	// httpMode: HTTPHandler serves agents.
	stdioAgent atomic.Pointer[mcp.ServerSession]
	stdioMode  atomic.Bool
	httpMode   atomic.Bool
}

// appliedCatalog is what the upstream server currently lists, so a rebuild
// only adds and removes what changed (each change notifies the agent).
type appliedCatalog struct {
	tools     map[string]*catalog.ToolEntry
	whole     map[string]bool // tools the SDK server knows by name (toollist.go)
	prompts   map[string][]byte
	resources map[string][]byte
	templates map[string][]byte
}

// New returns a gateway over no servers; call [Gateway.Apply] to add some.
// A nil opts means defaults. It panics on a stage that implements no phase
// of the call path (a wiring mistake, not bad input).
func New(opts *Options) *Gateway {
	o := opts.defaults()
	chain, err := callpath.NewChain(o.Stages)
	if err != nil {
		panic("mux.New: " + err.Error())
	}
	g := &Gateway{
		opts:    o,
		chain:   chain,
		logger:  o.Logger,
		servers: map[string]*downstream{},
		applied: appliedCatalog{tools: map[string]*catalog.ToolEntry{}, whole: map[string]bool{}, prompts: map[string][]byte{}, resources: map[string][]byte{}, templates: map[string][]byte{}},
		secrets: o.Redactor,
		spawns:  make(chan struct{}, maxSpawns()),
	}
	g.version = o.ProtocolVersion
	g.roots.init()
	g.held.afterList, g.held.max = heldAfterList, heldStartMax
	g.settledCh = make(chan struct{})
	g.stateKey = o.StateKey
	if g.stateKey == nil {
		g.stateKey = make([]byte, 32)
		rand.Read(g.stateKey)
	}
	g.cat.Store(catalog.Merge(nil, nil))
	g.publishListing(g.cat.Load())
	g.status = newStatusWriter(g, o.Status, o.ConfigPath)
	// Strict records are stored before the agent is answered, which the
	// server's reader must not wait for.
	g.inlineAnswers = chain.ResultsInline() && !o.RecordStrict && !o.NoInline
	tag := make([]byte, 6)
	rand.Read(tag)
	g.sessionTag = fmt.Sprintf("stdio-%d-%x", os.Getpid(), tag)
	g.server = g.newUpstream()
	g.server.AddReceivingMiddleware(g.noteStdioAgent) // outermost: before the upstream's own
	if o.Authenticate != nil {
		g.server.AddReceivingMiddleware(g.noteCaller) // outermost: before any handler
	}
	g.registerDispatcher()
	return g
}

// CallPath describes the call path for diagnostics: the stages by phase,
// and whether the fast path answers from the server's reader (it does
// unless a stage looks at results, records are strict, or it is off).
func (g *Gateway) CallPath() string {
	inline := "on"
	if !g.inlineAnswers {
		inline = "off"
		switch {
		case g.opts.NoFastPath:
			inline += " (no fast path)"
		case !g.chain.ResultsInline():
			inline += " (a stage inspects results)"
		case g.opts.RecordStrict:
			inline += " (strict record)"
		}
	}
	if g.inlineAnswers && g.chain.InspectsResults() {
		inline += " (result stages run inline)"
	}
	return g.chain.String() + "; inline answers " + inline
}

// Apply makes the gateway's servers match specs (in config order): new
// servers are added, removed ones stopped, changed ones restarted. Agents
// see the resulting catalog change as list_changed notifications.
func (g *Gateway) Apply(specs []ServerSpec) {
	agentID := g.agentCaller().Identity // what stdio servers' environments should hold
	g.mu.Lock()
	var stopped []*downstream
	next := make(map[string]*downstream, len(specs))
	order := make([]string, 0, len(specs))
	for i, spec := range specs {
		spec = withDefaults(spec)
		old := g.servers[spec.Name]
		// A server whose environment has an identity no longer current is
		// started again, with the new one.
		if old != nil && reflect.DeepEqual(old.spec, spec) && !old.envIdentityStale(agentID) {
			old.order = i
			next[spec.Name] = old
		} else {
			if old != nil {
				stopped = append(stopped, old)
			}
			d := newDownstream(g, spec, i)
			if g.started { // else Start loads it, once it knows what servers are told
				d.cached = d.loadCached(g.advertisedLocked(spec))
			}
			next[spec.Name] = d
			if g.started && (!spec.Lazy || g.lazyStarted.Load() && d.cached == nil) {
				d.start()
			}
		}
		order = append(order, spec.Name)
	}
	for name, d := range g.servers {
		if _, ok := next[name]; !ok {
			stopped = append(stopped, d)
		}
	}
	g.servers, g.order = next, order
	g.mu.Unlock()
	for _, d := range stopped {
		d.close()
	}
	g.rebuild()
}

func withDefaults(s ServerSpec) ServerSpec {
	if s.ConnectTimeout <= 0 {
		s.ConnectTimeout = defaultConnectTimeout
	}
	if s.CallTimeout <= 0 {
		s.CallTimeout = defaultCallTimeout
	}
	return s
}

// Close stops every server and waits for their processes to exit.
func (g *Gateway) Close() error {
	g.mu.Lock()
	all := make([]*downstream, 0, len(g.servers))
	for _, d := range g.servers {
		all = append(all, d)
	}
	g.servers, g.order = map[string]*downstream{}, nil
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range all {
		wg.Go(d.close)
	}
	wg.Wait()
	g.saves.Wait()
	g.status.close()
	return nil
}

func (g *Gateway) downstream(name string) *downstream {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.servers[name]
}

// snapshots returns each server's last snapshot in config order.
func (g *Gateway) snapshots() []catalog.Source {
	ds := g.downstreams()
	out := make([]catalog.Source, 0, len(ds))
	for _, d := range ds {
		d.mu.Lock()
		snap := d.snap
		if snap == nil {
			snap = d.cached
		}
		out = append(out, catalog.Source{Server: d.spec.Name, Prefix: d.spec.Prefix, Snap: snap})
		d.mu.Unlock()
	}
	return out
}

// rebuild merges the servers' snapshots and updates what the upstream
// server lists; the SDK debounces the resulting list_changed notifications.
func (g *Gateway) rebuild() {
	g.rebuildMu.Lock()
	defer g.rebuildMu.Unlock()
	old := g.cat.Load()
	c := catalog.Merge(old, g.snapshots())
	for _, col := range c.Collisions() {
		if !slices.Contains(old.Collisions(), col) {
			g.logger.Warn("name collision", "detail", col.String())
		}
	}
	g.cat.Store(c)

	g.syncTools(c)
	syncFeature(g, g.applied.prompts, c.Prompts(), g.server.RemovePrompts, g.addPrompt)
	syncFeature(g, g.applied.resources, c.Resources(), g.server.RemoveResources, g.addResource)
	syncFeature(g, g.applied.templates, templatesByURI(c), g.server.RemoveResourceTemplates, g.addTemplate)
}

func (g *Gateway) addPrompt(p *mcp.Prompt)     { g.server.AddPrompt(p, g.promptHandler) }
func (g *Gateway) addResource(r *mcp.Resource) { g.server.AddResource(r, g.resourceHandler) }
func (g *Gateway) addTemplate(t *mcp.ResourceTemplate) {
	g.server.AddResourceTemplate(t, g.resourceHandler)
}

func templatesByURI(c *catalog.Catalog) map[string]*mcp.ResourceTemplate {
	templates := make(map[string]*mcp.ResourceTemplate, len(c.Templates()))
	for _, t := range c.Templates() {
		templates[t.URITemplate] = t.ResourceTemplate
	}
	return templates
}

// refreshPromptsAndResources tells agents their prompt and resource lists
// changed, without changing them: adding an entry again is what makes the
// SDK say so. The caller holds rebuildMu.
func (g *Gateway) refreshPromptsAndResources() {
	c := g.cat.Load()
	for _, name := range catalog.SortedKeys(c.Prompts()) {
		if _, ok := g.applied.prompts[name]; ok {
			g.addPrompt(c.Prompts()[name])
			break
		}
	}
	for _, uri := range catalog.SortedKeys(c.Resources()) {
		if _, ok := g.applied.resources[uri]; ok {
			g.addResource(c.Resources()[uri])
			break
		}
	}
}

// syncFeature removes what is gone and adds what is new or changed, keyed
// by name (or URI). add may panic on untrusted downstream data (the SDK
// validates names, schemas and URIs by panicking): such an entry is skipped
// and logged.
func syncFeature[T any](g *Gateway, applied map[string][]byte, want map[string]*T, remove func(...string), add func(*T)) {
	var gone []string
	for name := range applied {
		if _, ok := want[name]; !ok {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		remove(gone...)
		for _, name := range gone {
			delete(applied, name)
		}
	}
	for _, name := range catalog.SortedKeys(want) {
		v := want[name]
		b, err := json.Marshal(v)
		if err != nil {
			g.logger.Warn("skipping entry that does not marshal", "name", name, "err", err)
			continue
		}
		if prev, ok := applied[name]; ok && string(prev) == string(b) {
			continue
		}
		if err := safely(func() { add(v) }); err != nil {
			g.logger.Warn("skipping invalid entry from a server", "name", name, "err", err)
			continue
		}
		applied[name] = b
	}
}

func safely(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}
