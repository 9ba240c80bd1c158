package callpath_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// step is a request stage that returns a fixed verdict and notes that it
// ran.
type step struct {
	name string
	v    *callpath.Verdict
	ran  *[]string
}

func (s step) Name() string { return s.name }
func (s step) CheckRequest(context.Context, *callpath.Call) *callpath.Verdict {
	*s.ran = append(*s.ran, s.name)
	return s.v
}

type resultOnly struct{}

func (resultOnly) Name() string { return "result" }
func (resultOnly) CheckResult(_ context.Context, _ *callpath.Call, r *callpath.Result) *callpath.Verdict {
	r.Raw = []byte(strings.ReplaceAll(string(r.Raw), "secret", "[x]"))
	return &callpath.Verdict{Decision: "redact", Rule: "r1", Findings: []callpath.Finding{{Rule: "r1", Path: "$.result"}}}
}

type hider struct{}

func (hider) Name() string { return "hider" }
func (hider) Hide(_ callpath.Session, e callpath.Entry) *callpath.Verdict {
	if e.Name == "hidden" {
		return callpath.Deny("hide", "not for you")
	}
	return nil
}

type nothing struct{}

func (nothing) Name() string { return "nothing" }

func TestNewChainSortsByPhase(t *testing.T) {
	var ran []string
	ch, err := callpath.NewChain([]callpath.Stage{resultOnly{}, step{name: "a", ran: &ran}, hider{}, step{name: "b", ran: &ran}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ch.String(), "request: a, b; result: result; catalog: hider"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if !ch.InspectsResults() || !ch.FiltersCatalog() {
		t.Error("phases not seen")
	}
	if _, err := callpath.NewChain([]callpath.Stage{nothing{}}); err == nil || !strings.Contains(err.Error(), `"nothing" implements no phase`) {
		t.Errorf("a stage with no phase: %v", err)
	}
	var none *callpath.Chain
	if none.InspectsResults() || none.FiltersCatalog() || none.CheckRequest(context.Background(), &callpath.Call{}) != nil {
		t.Error("a nil chain does something")
	}
}

func TestCheckRequest(t *testing.T) {
	ctx := context.Background()
	warn := &callpath.Verdict{Decision: "warn", Rule: "w", Findings: []callpath.Finding{{Rule: "w", Path: "$.arguments.x"}}}
	deny := callpath.Deny("d", "no")
	allow := func(context.Context) *callpath.Verdict { return &callpath.Verdict{Decision: "approve", Rule: "person"} }
	refuse := func(context.Context) *callpath.Verdict { return callpath.Deny("person", "declined") }
	for _, tc := range []struct {
		name     string
		verdicts []*callpath.Verdict
		hold     bool // CheckRequest returns a hold, which the test then waits out
		ran      []string
		final    *callpath.Verdict
		decision string
		findings int
	}{
		{"all pass", []*callpath.Verdict{nil, nil}, false, []string{"s0", "s1"}, nil, "", 0},
		{"a note goes on", []*callpath.Verdict{warn, nil}, false, []string{"s0", "s1"}, nil, "warn", 1},
		{"a stop ends the chain", []*callpath.Verdict{warn, deny, nil}, false, []string{"s0", "s1"}, deny, "deny", 1},
		{"an approved hold runs the rest", []*callpath.Verdict{{Hold: allow}, warn}, true, []string{"s0", "s1"}, nil, "warn", 1},
		{"a refused hold stops", []*callpath.Verdict{{Hold: refuse}, warn}, true, []string{"s0"}, callpath.Deny("person", "declined"), "deny", 0},
		{"a hold after a hold waits too", []*callpath.Verdict{{Hold: allow}, {Hold: refuse}}, true, []string{"s0", "s1"}, callpath.Deny("person", "declined"), "deny", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			var stages []callpath.Stage
			for i, v := range tc.verdicts {
				stages = append(stages, step{name: "s" + string(rune('0'+i)), v: v, ran: &ran})
			}
			ch, err := callpath.NewChain(stages)
			if err != nil {
				t.Fatal(err)
			}
			c := &callpath.Call{}
			v := ch.CheckRequest(ctx, c)
			if got := v != nil && v.Hold != nil; got != tc.hold {
				t.Fatalf("hold = %v; want %v", got, tc.hold)
			}
			if tc.hold {
				if len(ran) != 1 {
					t.Errorf("stages after a hold ran before it was decided: %v", ran)
				}
				v = v.Hold(ctx)
			}
			if diff := cmp.Diff(tc.ran, ran); diff != "" {
				t.Errorf("stages run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.final, v, cmp.Comparer(func(a, b func(context.Context) *callpath.Verdict) bool { return a == nil && b == nil })); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			if got := c.Verdict(); got.Decision != tc.decision || len(got.Findings) != tc.findings {
				t.Errorf("call's verdict = %+v; want decision %q with %d findings", got, tc.decision, tc.findings)
			}
		})
	}
}

func TestCheckResultAndHide(t *testing.T) {
	ch, err := callpath.NewChain([]callpath.Stage{resultOnly{}, hider{}})
	if err != nil {
		t.Fatal(err)
	}
	c := &callpath.Call{}
	r := &callpath.Result{Raw: []byte(`{"text":"a secret"}`)}
	if v := ch.CheckResult(context.Background(), c, r); v != nil {
		t.Errorf("a note stopped the call: %+v", v)
	}
	if string(r.Raw) != `{"text":"a [x]"}` || c.Verdict().Decision != "redact" || c.Verdict().Rule != "r1" {
		t.Errorf("result %s, verdict %+v", r.Raw, c.Verdict())
	}
	if v := ch.Hide(nil, callpath.Entry{Name: "hidden"}); !v.Stops() || v.Reason != "not for you" {
		t.Errorf("Hide(hidden) = %+v", v)
	}
	if v := ch.Hide(nil, callpath.Entry{Name: "shown"}); v != nil {
		t.Errorf("Hide(shown) = %+v", v)
	}
}

func TestKindMethod(t *testing.T) {
	for k, want := range map[callpath.Kind]string{callpath.ToolCall: "tools/call", callpath.PromptGet: "prompts/get",
		callpath.ResourceRead: "resources/read", callpath.Elicitation: "elicitation/create", callpath.Sampling: "sampling/createMessage", 0: ""} {
		if got := k.Method(); got != want {
			t.Errorf("Kind(%d).Method() = %q; want %q", k, got, want)
		}
	}
	if callpath.ToolCall.FromServer() || !callpath.Sampling.FromServer() {
		t.Error("FromServer is wrong")
	}
}

type inlineResult struct {
	resultOnly
	inline bool
}

func (s inlineResult) Inline() bool { return s.inline }

func TestResultsInline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages []callpath.Stage
		want   bool
	}{
		{"no result stage", []callpath.Stage{hider{}}, true},
		{"an inline one", []callpath.Stage{inlineResult{inline: true}}, true},
		{"one that may wait", []callpath.Stage{inlineResult{inline: true}, resultOnly{}}, false},
		{"one that says it is not inline", []callpath.Stage{inlineResult{inline: false}}, false},
	} {
		ch, err := callpath.NewChain(tc.stages)
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.ResultsInline(); got != tc.want {
			t.Errorf("%s: ResultsInline() = %v; want %v", tc.name, got, tc.want)
		}
	}
}
