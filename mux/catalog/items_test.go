package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestItemsKeepServersBytesAndOrder lists prompts, resources and templates
// as servers wrote them: servers in config order, each in its own order,
// a raw prompt with only its name changed, and no cache fields for agents
// older than 2026-07-28.
func TestItemsKeepServersBytesAndOrder(t *testing.T) {
	zp, ap := &mcp.Prompt{Name: "zeta"}, &mcp.Prompt{Name: "alpha", Arguments: []*mcp.PromptArgument{{Name: "x"}}}
	rawZeta := json.RawMessage(`{"name":"zeta","arguments":[{"name":"x","required":false}],"x-extra":1}`)
	r1, r2 := &mcp.Resource{URI: "b://2", Name: "two"}, &mcp.Resource{URI: "a://1", Name: "one"}
	tm := &mcp.ResourceTemplate{URITemplate: "t://{id}", Name: "t"}
	rawTm := json.RawMessage(`{"uriTemplate":"t://{id}","name":"t","unknown":true}`)
	c := Merge(nil, []Source{
		{Server: "s", Prefix: "s", Snap: &Snapshot{Prompts: []*mcp.Prompt{zp, ap}, RawPrompts: map[*mcp.Prompt]json.RawMessage{zp: rawZeta},
			Resources: []*mcp.Resource{r1, r2}, Templates: []*mcp.ResourceTemplate{tm}, RawTemplates: map[*mcp.ResourceTemplate]json.RawMessage{tm: rawTm}}},
		{Server: "a", Prefix: "a", Snap: &Snapshot{Prompts: []*mcp.Prompt{{Name: "first"}}}},
	})
	for _, tc := range []struct {
		items *Items
		cache bool
		want  string
	}{
		{c.PromptItems(), false, `{"prompts":[{"name":"s__zeta","arguments":[{"name":"x","required":false}],"x-extra":1},{"arguments":[{"name":"x"}],"name":"s__alpha"},{"name":"a__first"}]}`},
		{c.PromptItems(), true, `{"ttlMs":0,"cacheScope":"public","prompts":[{"name":"s__zeta","arguments":[{"name":"x","required":false}],"x-extra":1},{"arguments":[{"name":"x"}],"name":"s__alpha"},{"name":"a__first"}]}`},
		{c.ResourceItems(), false, `{"resources":[{"name":"two","uri":"b://2"},{"name":"one","uri":"a://1"}]}`},
		{c.TemplateItems(), false, `{"resourceTemplates":[{"uriTemplate":"t://{id}","name":"t","unknown":true}]}`},
	} {
		res, err := tc.items.Answer("", tc.cache)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, string(b)); diff != "" {
			t.Errorf("answer, cache %v (-want +got):\n%s", tc.cache, diff)
		}
	}
	// A second merge reuses what the first encoded.
	c2 := Merge(c, []Source{{Server: "s", Prefix: "s", Snap: &Snapshot{Prompts: []*mcp.Prompt{zp}}}})
	if c2.PromptItems().All()[0] != c.PromptItems().All()[0] {
		t.Error("the second merge encoded an unchanged prompt again")
	}
	// Under another prefix it is made again.
	c3 := Merge(c, []Source{{Server: "s", Prefix: "p", Snap: &Snapshot{Prompts: []*mcp.Prompt{zp}, RawPrompts: map[*mcp.Prompt]json.RawMessage{zp: rawZeta}}}})
	if got := string(c3.PromptItems().All()[0].Data); !strings.HasPrefix(got, `{"name":"p__zeta"`) {
		t.Errorf("after a prefix change: %s", got)
	}
}

// TestItemsPages pages items as the SDK does, following cursors.
func TestItemsPages(t *testing.T) {
	var rs []*mcp.Resource
	var want []string
	for i := range mcp.DefaultPageSize + 7 {
		uri := fmt.Sprintf("r://%d", (i*7919)%(mcp.DefaultPageSize+7)) // not sorted
		rs = append(rs, &mcp.Resource{URI: uri, Name: "r"})
		want = append(want, uri)
	}
	c := Merge(nil, []Source{{Server: "s", Snap: &Snapshot{Resources: rs}}})
	var got []string
	cursor := ""
	for {
		res, err := c.ResourceItems().Answer(cursor, false)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res)
		var page mcp.ListResourcesResult
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Resources {
			got = append(got, r.URI)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if _, err := c.ResourceItems().Answer("not a cursor", false); err == nil {
		t.Error("an invalid cursor was accepted")
	}
}

func TestWithoutMember(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"name":"a","execution":{"taskSupport":"forbidden"}}`, `{"name":"a"}`},
		{`{"execution":{"x":[1,2]},"name":"a"}`, `{"name":"a"}`},
		{`{"name":"a", "execution" : {} , "title":"t"}`, `{"name":"a",  "title":"t"}`},
		{`{"execution":1}`, `{}`},
		{`{"name":"a","inputSchema":{"execution":1}}`, ``},
		{`{"name":"execution"}`, ``},
	} {
		got, ok := withoutMember([]byte(tc.in), "execution")
		if string(got) != tc.want || ok != (tc.want != "") {
			t.Errorf("withoutMember(%s) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}
