package approval

import (
	"context"
	"testing"
)

// BenchmarkCheckRequest is what the approval stage adds to a call it does
// not hold: no rules (the stage is always in the call path), a glob that
// does not match, and a CEL condition evaluated over the arguments. Compare
// the sub-benchmarks with "none" of the same run.
func BenchmarkCheckRequest(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		rules []Rule
	}{
		{"none", nil},
		{"glob-miss", []Rule{{Server: "github", Tool: "delete_*"}, {Destructive: true}}},
		{"cel-false", []Rule{{Server: "fx", Tool: "echo", When: `args.text.contains("DROP")`}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := &Stage{}
			if len(bc.rules) > 0 {
				if err := st.Update(Config{Rules: bc.rules}); err != nil {
					b.Fatal(err)
				}
			}
			c := toolCall("fx", "echo", nil, `{"text":"SELECT 1 FROM t"}`)
			b.ReportAllocs()
			for b.Loop() {
				if st.CheckRequest(ctx, c) != nil {
					b.Fatal("held")
				}
			}
		})
	}
}
