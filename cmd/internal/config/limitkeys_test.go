package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/policy/limits"
)

func TestLimitsParse(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`limits:
  - {scope: user, rate: 60/m}
  - {scope: team, rate: 600/m}
  - {scope: server, server: github, rate: 5/s, burst: 10}
  - {scope: tool, server: github, tool: "create_*", rate: 10/h}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []limits.Rule{
		{ID: "limits[0]", Scope: limits.User, Rate: limits.Rate{N: 60, Per: time.Minute}},
		{ID: "limits[1]", Scope: limits.Team, Rate: limits.Rate{N: 600, Per: time.Minute}},
		{ID: "limits[2]", Scope: limits.Server, Server: "github", Rate: limits.Rate{N: 5, Per: time.Second}, Burst: 10},
		{ID: "limits[3]", Scope: limits.Tool, Server: "github", Tool: "create_*", Rate: limits.Rate{N: 10, Per: time.Hour}},
	}
	if diff := cmp.Diff(want, c.Limits); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
}

func TestLimitsErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"limits: {scope: user}\n", "c.yaml:1: limits: expected a list"},
		{"limits:\n  - {scope: user, rate: 60/m}\n  - {rate: 5/s}\n", "c.yaml:3: limits[1]: a limit needs scope: user, team, server or tool"},
		{"limits:\n  - {scope: server}\n", "c.yaml:2: limits[0]: a limit needs rate: N/s, N/m or N/h"},
		{"limits:\n  - {scope: users, rate: 1/s}\n", `c.yaml:2: limits[0].scope: unknown scope "users"; use user, team, server or tool`},
		{"limits:\n  - scope: user\n    rate: 5/d\n", `c.yaml:3: limits[0].rate: rate "5/d": unknown period "d"; use s, m or h`},
		{"limits:\n  - {scope: user, rate: five/s}\n", `c.yaml:2: limits[0].rate: rate "five/s": "five" is not a positive whole number`},
		{"limits:\n  - {scope: user, rate: 0/s}\n", `is not a positive whole number`},
		{"limits:\n  - {scope: user, rate: 60}\n", `rate "60": write N/s, N/m or N/h`},
		{"limits:\n  - {scope: user, rate: 1/s, burst: 0}\n", `c.yaml:2: limits[0].burst: "0" is not a positive whole number`},
		{"limits:\n  - {scope: tool, rate: 1/s}\n", `c.yaml:2: limits[0]: a tool limit counts each tool apart`},
		{"limits:\n  - {scope: server, server: \"[\", rate: 1/s}\n", `limits[0].server: bad glob "["`},
		{"limits:\n  - {scope: user, rate: 1/s, per: x}\n", `c.yaml:2: limits[0]: unknown key "per"`},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
