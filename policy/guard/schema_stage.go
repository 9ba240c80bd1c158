package guard

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// SchemaMode is what a tool call whose arguments do not match the tool's
// inputSchema gets.
type SchemaMode string

// The modes of the schema check.
const (
	// SchemaWarn lets the call go on, with the problems in the record:
	// servers often accept what their schema does not say ("5" for 5).
	SchemaWarn SchemaMode = "warn"
	// SchemaBlock answers the call with an error result naming each
	// argument that failed and why, so the model can fix it.
	SchemaBlock SchemaMode = "block"
	// SchemaOff skips the check.
	SchemaOff SchemaMode = "off"
)

// SchemaRule is the rule name the schema check's verdicts and findings
// carry in the record.
const SchemaRule = "schema"

// SchemaCheck is the call path's stage that checks each tools/call's
// arguments against the tool's inputSchema, as the agent was shown it.
//
// It lives here, with its own small types, rather than in mux beside the
// catalog: the gateway hands every tool call its definition's bytes
// ([callpath.Call].Def), so the check needs neither the catalog nor the MCP
// SDK, and is tested, like the other guards, without either. jsonschema-go,
// which compiles and validates, is not the SDK.
//
// Each definition is compiled once, on its tool's first call, and kept
// while the definition stays the same: a changed definition replaces it.
// A schema that cannot be compiled never blocks a call: it is logged once
// and its calls go on unchecked.
type SchemaCheck struct {
	logger *slog.Logger
	mode   atomic.Pointer[SchemaMode]

	mu    sync.Mutex // serialises compiling; readers never take it
	cache atomic.Pointer[map[toolKey]*compiled]
}

// SchemaCheckOptions configures a [SchemaCheck]; nil means defaults.
type SchemaCheckOptions struct {
	// Mode is the check's mode; "" means [SchemaWarn].
	Mode SchemaMode
	// Logger receives the note about a schema that cannot be compiled; nil
	// discards it.
	Logger *slog.Logger
}

type toolKey struct{ server, tool string }

// compiled is one tool definition's schema, or why it has none.
type compiled struct {
	def    []byte
	schema *Schema
	err    error
	noted  atomic.Bool // a failure to check was logged
}

// maxCompiled bounds the cache: tools that leave the catalog leave their
// entry behind until then.
const maxCompiled = 4096

var _ callpath.RequestStage = (*SchemaCheck)(nil)

// NewSchemaCheck returns the stage.
func NewSchemaCheck(opts *SchemaCheckOptions) *SchemaCheck {
	var o SchemaCheckOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &SchemaCheck{logger: o.Logger}
	s.SetMode(o.Mode)
	return s
}

// Name implements [callpath.Stage].
func (*SchemaCheck) Name() string { return "guard-schema" }

// Mode is the check's mode now.
func (s *SchemaCheck) Mode() SchemaMode { return *s.mode.Load() }

// SetMode changes the mode of a running check ("" is [SchemaWarn]), as when
// the configuration is edited.
func (s *SchemaCheck) SetMode(m SchemaMode) {
	if m == "" {
		m = SchemaWarn
	}
	s.mode.Store(&m)
}

// CheckRequest implements [callpath.RequestStage].
func (s *SchemaCheck) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	mode := s.Mode()
	if mode == SchemaOff || c.Kind != callpath.ToolCall || c.Def == nil {
		return nil
	}
	cs := s.schemaFor(c)
	if cs.schema == nil {
		return nil
	}
	problems, err := cs.schema.Check(c.Params)
	if err != nil {
		if !cs.noted.Swap(true) {
			s.logger.Warn("a tool's arguments could not be checked against its input schema; its calls go on unchecked",
				"tool", c.Exposed, "server", c.Server, "err", err)
		}
		return nil
	}
	if problems == nil {
		return nil
	}
	findings := make([]callpath.Finding, len(problems))
	said := make([]string, len(problems))
	for i, p := range problems {
		findings[i] = callpath.Finding{Rule: SchemaRule, Path: p.Path}
		said[i] = p.String()
	}
	what := strings.Join(said, "; ")
	if mode == SchemaBlock {
		return callpath.Block(SchemaRule, fmt.Sprintf(
			"call to %q blocked: its arguments do not match the tool's input schema: %s. Correct the arguments and call again", c.Exposed, what),
			findings...)
	}
	return &callpath.Verdict{Decision: "warn", Rule: SchemaRule, Findings: findings,
		Reason: fmt.Sprintf("the arguments of %q do not match the tool's input schema: %s", c.Exposed, what)}
}

// schemaFor returns the compiled schema of c's tool definition, compiling
// it on first use.
func (s *SchemaCheck) schemaFor(c *callpath.Call) *compiled {
	k := toolKey{c.Server, c.Name}
	if m := s.cache.Load(); m != nil {
		// The catalog hands out the same bytes while a definition stays
		// the same: comparing them is a pointer check, mostly.
		if cs, ok := (*m)[k]; ok && bytes.Equal(cs.def, c.Def) {
			return cs
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cache.Load()
	if old != nil {
		if cs, ok := (*old)[k]; ok && bytes.Equal(cs.def, c.Def) {
			return cs
		}
	}
	cs := &compiled{def: c.Def}
	cs.schema, cs.err = CompileToolSchema(c.Def)
	if cs.err != nil {
		s.logger.Warn("a tool's input schema cannot be compiled; its calls go on unchecked",
			"tool", c.Exposed, "server", c.Server, "err", cs.err)
	}
	// Copy on write: calls read the map without a lock.
	m := make(map[toolKey]*compiled, 1)
	if old != nil && len(*old) < maxCompiled {
		m = make(map[toolKey]*compiled, len(*old)+1)
		for k, v := range *old {
			m[k] = v
		}
	}
	m[k] = cs
	s.cache.Store(&m)
	return cs
}
