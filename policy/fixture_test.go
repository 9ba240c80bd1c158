package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// fixture is one file of testdata/policy: a user policy, optionally a
// managed one, and what they must decide. Policy fields decode by their
// lower-cased Go names (default, teams, servers, tools, allow, …).
type fixture struct {
	Policy     *Policy
	Managed    *Policy
	Cases      []decideCase
	Visible    []visibleCase
	Select     []selectCase
	Identities []identityCase
	Errors     []errorCase
}

type decideCase struct {
	Name     string
	Identity Identity
	Profile  string
	Kind     string
	Server   string
	Tool     string // the server's own name (URI for resources)
	Exposed  string // default: server__tool, or the URI
	Args     any    // encoded as the call's JSON arguments
	RawArgs  string `yaml:"raw_args"`
	Allow    bool
	Rule     string
	Reason   string // checked when set
	Chain    []Step // checked when set
}

type visibleCase struct {
	Name     string
	Identity Identity
	Profile  string
	Kind     string // tool, prompt, resource, template
	Server   string
	Tool     string
	Exposed  string
	Visible  bool
	Rule     string
	Reason   string
}

type selectCase struct {
	Name     string
	Explicit string
	Client   string
	Want     string
	Error    string
}

type identityCase struct {
	Name    string
	Sources struct {
		OS, Env, Config, Profile Identity
		ProfileName              string `yaml:"profile_name"`
	}
	Want struct {
		User, Team                    string
		Roles                         []string
		UserFrom, TeamFrom, RolesFrom string `yaml:",omitempty"`
		Ignored                       []string
	}
}

type errorCase struct {
	Name    string
	Managed bool
	Policy  Policy
	Want    []string // the errors, one per problem
}

func loadFixture(t *testing.T, file string) fixture {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return f
}

func kindOf(t *testing.T, s string) Kind {
	switch s {
	case "", "tool":
		return Tool
	case "prompt":
		return Prompt
	case "resource":
		return Resource
	}
	t.Fatalf("kind %q", s)
	return 0
}

// TestFixtures runs every file of testdata/policy.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/policy/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			runFixture(t, loadFixture(t, file))
		})
	}
}

func runFixture(t *testing.T, f fixture) {
	var l Layers
	var err error
	if f.Policy != nil {
		if l.User, err = Compile(*f.Policy); err != nil {
			t.Fatalf("policy: %v", err)
		}
	}
	if f.Managed != nil {
		if l.Managed, err = CompileManaged(*f.Managed); err != nil {
			t.Fatalf("managed: %v", err)
		}
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) { runDecide(t, l, c) })
	}
	for _, c := range f.Visible {
		t.Run("visible/"+c.Name, func(t *testing.T) { runVisible(t, l, c) })
	}
	for _, c := range f.Select {
		t.Run("select/"+c.Name, func(t *testing.T) {
			got, err := l.User.SelectProfile(c.Explicit, c.Client)
			if msg := errString(err); msg != c.Error || got != c.Want {
				t.Errorf("SelectProfile(%q, %q) = %q, %q; want %q, %q", c.Explicit, c.Client, got, msg, c.Want, c.Error)
			}
		})
	}
	for _, c := range f.Identities {
		t.Run("identity/"+c.Name, func(t *testing.T) {
			r := ResolveIdentity(IdentitySources{OS: c.Sources.OS, Env: c.Sources.Env, Config: c.Sources.Config, Profile: c.Sources.Profile, ProfileName: c.Sources.ProfileName}, l.Managed)
			got := c.Want
			got.User, got.Team, got.Roles = r.User, r.Team, r.Roles
			got.UserFrom, got.TeamFrom, got.RolesFrom, got.Ignored = r.UserFrom, r.TeamFrom, r.RolesFrom, r.Ignored
			if diff := cmp.Diff(c.Want, got); diff != "" {
				t.Errorf("ResolveIdentity (-want +got):\n%s", diff)
			}
		})
	}
	for _, c := range f.Errors {
		t.Run("errors/"+c.Name, func(t *testing.T) {
			compile := Compile
			if c.Managed {
				compile = CompileManaged
			}
			_, err := compile(c.Policy)
			var got []string
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					got = append(got, e.Error())
				}
			} else if err != nil {
				got = []string{err.Error()}
			}
			if diff := cmp.Diff(c.Want, got); diff != "" {
				t.Errorf("Compile errors (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (c decideCase) input(t *testing.T) Input {
	in := Input{Identity: c.Identity, Profile: c.Profile, Kind: kindOf(t, c.Kind), Server: c.Server, Name: c.Tool, Exposed: c.Exposed}
	if in.Exposed == "" && in.Kind != Resource {
		in.Exposed = c.Server + "__" + c.Tool
	}
	switch {
	case c.RawArgs != "":
		in.Args = json.RawMessage(c.RawArgs)
	case c.Args != nil:
		b, err := json.Marshal(c.Args)
		if err != nil {
			t.Fatal(err)
		}
		in.Args = b
	}
	return in
}

func runDecide(t *testing.T, l Layers, c decideCase) {
	in := c.input(t)
	d := l.Decide(in)
	want := Decision{Allow: c.Allow, Rule: c.Rule, Reason: c.Reason, Chain: c.Chain}
	got := d
	if c.Reason == "" {
		got.Reason = ""
	}
	if c.Chain == nil {
		got.Chain = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decide (-want +got):\n%s\nreason: %s", diff, d.Reason)
	}
	// The stage's path (no chain, cached, short-circuits) must agree with
	// the explained one, twice over (the second from the cache).
	st := &Stage{Policies: l, Profile: func(callpath.Session) string { return c.Profile }}
	for range 2 {
		call := &callpath.Call{Kind: map[Kind]callpath.Kind{Tool: callpath.ToolCall, Prompt: callpath.PromptGet, Resource: callpath.ResourceRead}[in.Kind],
			Exposed: in.Exposed, Server: in.Server, Name: in.Name, Params: in.Args, Identity: in.Identity, Session: fakeSession{id: in.Identity}}
		if in.Kind == Resource {
			call.Params = nil
			if in.Args != nil {
				continue
			}
		}
		v := st.CheckRequest(context.Background(), call)
		wantV := &callpath.Verdict{Decision: "allow", Rule: d.Rule, Reason: d.Reason}
		if !d.Allow {
			wantV = callpath.Deny(d.Rule, d.Reason)
		}
		if diff := cmp.Diff(wantV, v, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Hold" }, cmp.Ignore())); diff != "" {
			t.Errorf("Stage.CheckRequest disagrees with Decide (-decide +stage):\n%s", diff)
		}
	}
	if d2 := l.Decide(in); !cmp.Equal(d, d2) {
		t.Errorf("a second Decide (cached) differs:\n%s", cmp.Diff(d, d2))
	}
}

func runVisible(t *testing.T, l Layers, c visibleCase) {
	e := callpath.Entry{Server: c.Server, Name: c.Tool, Exposed: c.Exposed}
	switch c.Kind {
	case "", "tool":
		e.Kind = callpath.ToolEntry
	case "prompt":
		e.Kind = callpath.PromptEntry
	case "resource":
		e.Kind = callpath.ResourceEntry
	case "template":
		e.Kind = callpath.TemplateEntry
	default:
		t.Fatalf("kind %q", c.Kind)
	}
	if e.Exposed == "" {
		if e.Kind == callpath.ToolEntry || e.Kind == callpath.PromptEntry {
			e.Exposed = c.Server + "__" + c.Tool
		} else {
			e.Exposed = c.Tool
		}
	}
	d := l.Visible(c.Identity, c.Profile, e)
	got := visibleCase{Name: c.Name, Identity: c.Identity, Profile: c.Profile, Kind: c.Kind, Server: c.Server, Tool: c.Tool, Exposed: c.Exposed,
		Visible: d.Allow, Rule: d.Rule, Reason: d.Reason}
	if c.Reason == "" {
		got.Reason = ""
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("Visible (-want +got):\n%s\nreason: %s", diff, d.Reason)
	}
	st := &Stage{Policies: l, Profile: func(callpath.Session) string { return c.Profile }}
	v := st.Hide(fakeSession{id: c.Identity}, e)
	if (v == nil) != d.Allow || v != nil && (v.Rule != d.Rule || v.Reason != d.Reason || v.Status != callpath.Denied) {
		t.Errorf("Stage.Hide = %+v, disagrees with Visible %+v", v, d)
	}
}

type fakeSession struct {
	id     Identity
	client string
}

func (fakeSession) ID() string                       { return "s1" }
func (s fakeSession) Client() (name, version string) { return s.client, "1.0" }
func (fakeSession) ProtocolVersion() string          { return "2025-11-25" }
func (s fakeSession) Identity() callpath.Identity    { return s.id }
func (fakeSession) Elicit(context.Context, callpath.Question) (callpath.Answer, error) {
	return callpath.Answer{}, callpath.ErrCannotAsk
}
