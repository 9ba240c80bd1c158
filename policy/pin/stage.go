package pin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Mode is what a changed definition gets.
type Mode string

// The modes of pinning.
const (
	Hold Mode = "hold" // hidden from tools/list, calls refused
	Warn Mode = "warn" // listed, with a warning on stderr and in the record
)

// Rule is the rule name pinning's verdicts carry in the record.
const Rule = "pinning"

// Pin is one tool's pinned definition, and what was last seen of it when
// that differs. Tool "" pins the server's launch spec.
type Pin struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	// Exposed is the tool's name as agents see it, when it was pinned.
	Exposed string `json:"exposed,omitempty"`
	// Hash is the sha256 of Def, the canonical definition approved; ""
	// when none was (a tool seen first under a new name with another
	// tool's pinned definition).
	Hash string          `json:"hash"`
	Def  json.RawMessage `json:"definition,omitempty"`
	// Seen and SeenDef are the definition last seen, when it differs from
	// the pin: what `mcpgw tools approve` accepts.
	Seen    string          `json:"seen_hash,omitempty"`
	SeenDef json.RawMessage `json:"seen_definition,omitempty"`
	Pinned  time.Time       `json:"pinned"`
	// New says the server had pins already when this tool was first seen:
	// its tool set grew.
	New bool `json:"new,omitempty"`
	// RenamedFrom names the pinned tool of the same server whose
	// definition this one was first seen with.
	RenamedFrom string `json:"renamed_from,omitempty"`
	// Flags are the hidden-instruction markers found in the description.
	Flags []string `json:"flags,omitempty"`
}

// Changed reports whether the definition last seen differs from the pin.
func (p *Pin) Changed() bool { return p.Seen != "" && p.Seen != p.Hash }

// Store keeps pins, shared by every mcpgw process of the user.
type Store interface {
	// Pins returns every pin.
	Pins(ctx context.Context) ([]Pin, error)
	// Insert stores p unless its server and tool are pinned already, and
	// returns the pin stored.
	Insert(ctx context.Context, p Pin) (Pin, error)
	// Saw records what was seen of a pinned tool: its definition (hash
	// and def; empty when it matches the pin again) and the markers found.
	Saw(ctx context.Context, server, tool, hash string, def json.RawMessage, flags []string) error
	// Version changes whenever any process changes a pin.
	Version(ctx context.Context) (string, error)
}

// Stage is pinning in the call path: a catalog stage that pins what it
// sees and hides (Hold) what changed, and a request stage that notes
// calls to changed tools (Warn). The zero Mode is Hold.
type Stage struct {
	Store  Store
	Mode   Mode
	Logger *slog.Logger

	mu      sync.Mutex
	started time.Time // the first Load: pins older are another run's
	loaded  bool
	version string
	pins    map[key]*Pin
	decided map[key]decision
	exposed map[string]string // exposed tool name → server, as seen
}

type key struct{ server, tool string }

// decision is what the stage decided for one definition of a tool.
type decision struct {
	def     string
	verdict *callpath.Verdict // non-nil: changed
}

var (
	_ callpath.CatalogStage = (*Stage)(nil)
	_ callpath.RequestStage = (*Stage)(nil)
)

// Name implements callpath.Stage.
func (st *Stage) Name() string { return Rule }

// Load reads the pins from the store (at start, and by Reload).
func (st *Stage) Load(ctx context.Context) error {
	_, err := st.reload(ctx, true)
	return err
}

// Reload reads the pins again when another process changed them, and
// reports whether what the stage hides may have changed (then the
// gateway's views must be made again: Gateway.CatalogChanged).
func (st *Stage) Reload(ctx context.Context) (bool, error) { return st.reload(ctx, false) }

func (st *Stage) reload(ctx context.Context, force bool) (bool, error) {
	v, err := st.Store.Version(ctx)
	if err != nil {
		return false, err
	}
	st.mu.Lock()
	same := st.loaded && v == st.version
	st.mu.Unlock()
	if same && !force {
		return false, nil
	}
	all, err := st.Store.Pins(ctx)
	if err != nil {
		return false, err
	}
	pins := make(map[key]*Pin, len(all))
	for i := range all {
		pins[key{all[i].Server, all[i].Tool}] = &all[i]
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	changed := !st.loaded || len(pins) != len(st.pins)
	for k, p := range pins {
		if old, ok := st.pins[k]; !ok || old.Hash != p.Hash {
			changed = true
		}
	}
	if !st.loaded {
		st.started = time.Now()
	}
	st.pins, st.version, st.loaded = pins, v, true
	if changed {
		st.decided = nil
	}
	return changed, nil
}

// Hide implements callpath.CatalogStage: it pins a tool seen for the
// first time, and hides one whose definition changed (Hold).
func (st *Stage) Hide(_ callpath.Session, e callpath.Entry) *callpath.Verdict {
	if e.Kind != callpath.ToolEntry {
		return nil
	}
	v := st.decide(e)
	if v == nil || st.Mode == Warn {
		return nil
	}
	return v
}

// CheckRequest implements callpath.RequestStage: a call to a changed tool
// under Warn goes on, with the warning in the record.
func (st *Stage) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	if st.Mode != Warn || c.Kind != callpath.ToolCall {
		return nil
	}
	st.mu.Lock()
	d, ok := st.decided[key{c.Server, c.Name}]
	st.mu.Unlock()
	if !ok || d.verdict == nil {
		return nil
	}
	return &callpath.Verdict{Decision: "warn", Rule: Rule, Reason: d.verdict.Reason}
}

// decide returns the held verdict for e's definition, or nil when it
// matches its pin (pinning it on first sight).
func (st *Stage) decide(e callpath.Entry) *callpath.Verdict {
	k := key{e.Server, e.Name}
	st.mu.Lock()
	defer st.mu.Unlock()
	if d, ok := st.decided[k]; ok && d.def == string(e.Def) {
		return d.verdict
	}
	if st.exposed == nil {
		st.exposed = map[string]string{}
	}
	st.exposed[e.Exposed] = e.Server
	canon, hash, err := Canonical(e.Def)
	if err != nil {
		st.logger().Warn("tool definition not pinned", "tool", e.Exposed, "err", err)
		return nil
	}
	flags := Markers(description(e.Def), st.otherTools(e.Server))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, ok := st.pins[k]
	if !ok {
		p = st.first(ctx, e, canon, hash, flags)
	}
	var v *callpath.Verdict
	switch {
	case p.Hash == hash:
		if p.Seen != "" || !slices.Equal(p.Flags, flags) {
			st.saw(ctx, p, "", nil, flags)
		}
	default:
		if p.Seen != hash || !slices.Equal(p.Flags, flags) {
			st.saw(ctx, p, hash, canon, flags)
		}
		v = st.held(e, p)
		if st.Mode == Warn {
			st.logger().Warn("a tool's definition changed since it was pinned; listed anyway (pinning.on_change: warn)", "tool", e.Exposed, "review", "mcpgw tools pins diff "+e.Exposed, "approve", "mcpgw tools approve "+e.Exposed)
		} else {
			st.logger().Warn("a tool's definition changed since it was pinned; held until approved", "tool", e.Exposed, "review", "mcpgw tools pins diff "+e.Exposed, "approve", "mcpgw tools approve "+e.Exposed)
		}
	}
	if len(flags) > 0 {
		st.logger().Warn("a tool's description has hidden-instruction markers", "tool", e.Exposed, "flags", flags)
	}
	if st.decided == nil {
		st.decided = map[key]decision{}
	}
	st.decided[k] = decision{def: string(e.Def), verdict: v}
	return v
}

// first pins a tool seen for the first time (by this process), and
// returns the pin stored, which another process may have stored first.
func (st *Stage) first(ctx context.Context, e callpath.Entry, canon []byte, hash string, flags []string) *Pin {
	p := Pin{Server: e.Server, Tool: e.Name, Exposed: e.Exposed, Hash: hash, Def: canon, Pinned: time.Now(), Flags: flags}
	for k, other := range st.pins {
		if k.server != e.Server || k.tool == "" {
			continue
		}
		if !other.Pinned.Before(st.started) {
			continue // seen alongside it, in this run: both are new
		}
		// The server was pinned before this run: its tool set grew.
		p.New = true
		if other.Hash == hash && k.tool != e.Name && (p.RenamedFrom == "" || k.tool < p.RenamedFrom) {
			// Another tool's definition under a new name: a change, not a
			// new tool. Nothing is approved for this name yet.
			p.RenamedFrom, p.Hash, p.Def, p.Seen, p.SeenDef = k.tool, "", other.Def, hash, canon
		}
	}
	if st.Store != nil {
		stored, err := st.Store.Insert(ctx, p)
		if err != nil {
			st.logger().Warn("tool definition not pinned in the record; pinned for this process only", "tool", e.Exposed, "err", err)
		} else {
			p = stored
		}
	}
	if st.pins == nil {
		st.pins = map[key]*Pin{}
	}
	st.pins[key{e.Server, e.Name}] = &p
	return &p
}

// saw records what was seen of p.
func (st *Stage) saw(ctx context.Context, p *Pin, hash string, def []byte, flags []string) {
	p.Seen, p.SeenDef, p.Flags = hash, def, flags
	if st.Store == nil {
		return
	}
	if err := st.Store.Saw(ctx, p.Server, p.Tool, hash, def, flags); err != nil {
		st.logger().Warn("what was seen of a pinned tool not recorded", "server", p.Server, "tool", p.Tool, "err", err)
	}
}

// held is the verdict for a changed tool.
func (st *Stage) held(e callpath.Entry, p *Pin) *callpath.Verdict {
	what := "the definition of " + e.Exposed + " changed since it was pinned"
	if p.RenamedFrom != "" && p.Hash == "" {
		what = fmt.Sprintf("%s appeared with the definition pinned for %s of the same server (a renamed tool)", e.Exposed, p.RenamedFrom)
	}
	return &callpath.Verdict{Status: callpath.Denied, Decision: "held", Rule: Rule,
		Reason: fmt.Sprintf("%s; review with `mcpgw tools pins diff %s`, accept with `mcpgw tools approve %s`", what, e.Exposed, e.Exposed)}
}

// otherTools are the exposed names seen of other servers' tools.
func (st *Stage) otherTools(server string) []string {
	var out []string
	for name, s := range st.exposed {
		if s != server {
			out = append(out, name)
		}
	}
	return out
}

func (st *Stage) logger() *slog.Logger {
	if st.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return st.Logger
}

// description is a tool definition's description.
func description(def json.RawMessage) string {
	var t struct {
		Description string `json:"description"`
	}
	json.Unmarshal(def, &t)
	return t.Description
}

// InCallPath is the stage as the call path should run it: under Hold only
// its catalog phase (a held tool's calls are refused by the catalog phase
// already), so calls pay for no request check; under Warn the request
// phase too, to note calls to changed tools.
func (st *Stage) InCallPath() callpath.Stage {
	if st.Mode == Warn {
		return st
	}
	return catalogOnly{st}
}

// catalogOnly is a Stage's catalog phase alone.
type catalogOnly struct{ st *Stage }

func (c catalogOnly) Name() string { return c.st.Name() }

func (c catalogOnly) Hide(s callpath.Session, e callpath.Entry) *callpath.Verdict {
	return c.st.Hide(s, e)
}
