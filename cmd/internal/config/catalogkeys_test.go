package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogParse(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`catalog: search
profiles:
  cursor:
    match: {client: "cursor*"}
    catalog: {always: [memory__read_graph, "fs__read_*"]}
  claude:
    catalog: full
  plain:
    servers: [fs]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile string
		want    Catalog
	}{
		{"", Catalog{Mode: "search"}},
		{"cursor", Catalog{Mode: "search", Always: []string{"memory__read_graph", "fs__read_*"}}},
		{"claude", Catalog{Mode: "full"}},
		{"plain", Catalog{Mode: "search"}}, // inherits the top level
		{"nobody", Catalog{Mode: "search"}},
	} {
		if diff := cmp.Diff(tc.want, c.CatalogFor(tc.profile)); diff != "" {
			t.Errorf("CatalogFor(%q) (-want +got):\n%s", tc.profile, diff)
		}
	}
	if c.CatalogFor("claude").Search() || !c.CatalogFor("cursor").Search() {
		t.Error("Search() disagrees with the modes")
	}
	if len(c.Profiles) != 3 || c.Profiles[0].Match.Client != "cursor*" {
		t.Errorf("profiles lost their own keys: %+v", c.Profiles)
	}
	// The long form at the top level, and no catalog: at all.
	c, err = Parse("c.yaml", []byte("catalog:\n  mode: search\n  always: [a__b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Catalog{Mode: "search", Always: []string{"a__b"}}, c.CatalogFor("")); diff != "" {
		t.Errorf("long form (-want +got):\n%s", diff)
	}
	c, _ = Parse("c.yaml", []byte("servers: {}\n"))
	if c.CatalogFor("").Search() {
		t.Error("no catalog: is search mode; want full")
	}
}

func TestCatalogErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"catalog: lazy\n", `c.yaml:1: catalog: unknown catalog mode "lazy"; use full (every tool the agent may use is listed, the default) or search`},
		{"catalog: {mode: serch}\n", `c.yaml:1: catalog.mode: unknown mode "serch"; use full`},
		{"catalog: [search]\n", `c.yaml:1: catalog: expected a mode or a mapping, got a list; write it like catalog: search, or catalog: {mode: search, always: [memory__read_graph]}`},
		{"catalog: {mode: search, alwys: [x]}\n", `c.yaml:1: catalog: unknown key "alwys" (did you mean "always"?); allowed keys: mode, always`},
		{"catalog: {always: \"x\"}\n", `c.yaml:1: catalog.always: expected a list`},
		{"catalog: {always: [\"[x\"]}\n", `c.yaml:1: catalog.always[0]: bad glob "[x"`},
		{"profiles:\n  cursor:\n    catalog: {mode: everything}\n", `c.yaml:3: profiles.cursor.catalog.mode: unknown mode "everything"`},
		{"profiles:\n  cursor:\n    catalogue: search\n", `c.yaml:3: profiles.cursor: unknown key "catalogue" (did you mean "catalog"?); allowed keys: identity, servers, tools, match, catalog`},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
