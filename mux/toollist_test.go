package mux

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
)

// rawResults is a client transport that keeps the raw result of every
// response it reads.
type rawResults struct {
	mcp.Transport
	results chan []byte
}

func (t *rawResults) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	return rawResultsConn{c, t.results}, err
}

type rawResultsConn struct {
	mcp.Connection
	results chan []byte
}

func (c rawResultsConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	if r, ok := m.(*jsonrpc.Response); ok && r.Result != nil {
		select {
		case c.results <- r.Result:
		default:
		}
	}
	return m, err
}

// listingTools are tools that exercise the listing: more than one page,
// text the SDK writes without HTML escaping, schemas to normalize, and
// x-mcp-header annotations the SDK accepts and rejects.
func listingTools() []*mcp.Tool {
	var tools []*mcp.Tool
	for i := range mcp.DefaultPageSize*2 + 7 {
		tools = append(tools, &mcp.Tool{
			Name:        fmt.Sprintf("tool_%04d", (i*7919)%(mcp.DefaultPageSize*2+7)),
			Description: "a <b>tool</b> & \u2028 \"quoted\" é",
			InputSchema: map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "number", "maximum": 1e21}}},
		})
	}
	tools = append(tools,
		&mcp.Tool{Name: "no_schema"},
		&mcp.Tool{Name: "string_schema", InputSchema: map[string]any{"type": "string"}},
		&mcp.Tool{Name: "with_output", InputSchema: map[string]any{"type": "object"}, OutputSchema: map[string]any{"type": "object", "properties": map[string]any{}},
			Annotations: &mcp.ToolAnnotations{Title: "t", ReadOnlyHint: true}, Meta: mcp.Meta{"k": "v"}, Title: "With output"},
		&mcp.Tool{Name: "header_ok", InputSchema: map[string]any{"type": "object", "properties": map[string]any{
			"region": map[string]any{"type": "string", "x-mcp-header": "Region"}}}},
		&mcp.Tool{Name: "header_bad", InputSchema: map[string]any{"type": "object", "properties": map[string]any{
			"region": map[string]any{"type": "object", "x-mcp-header": "Region"}}}},
	)
	return tools
}

// TestToolListMatchesSDK lists the same tools from the gateway and from an
// SDK server that registers them whole, page by page at both protocol
// generations, and wants the same bytes. (The SDK lists by name; the
// gateway in the server's order, so the server here lists them by name.
// The SDK adds 2026-07-28's cache fields for older agents too; the gateway
// does not, so they are taken out of its pages there.)
func TestToolListMatchesSDK(t *testing.T) {
	tools := listingTools()
	slices.SortFunc(tools, func(a, b *mcp.Tool) int { return strings.Compare(a.Name, b.Name) })
	g := New(nil)
	defer g.Close()
	c := catalog.Merge(nil, []catalog.Source{{Server: "s", Snap: &catalog.Snapshot{Tools: tools}}})
	g.cat.Store(c)
	g.syncTools(c)

	ref := mcp.NewServer(&mcp.Implementation{Name: "mcpgw", Version: "dev"}, &mcp.ServerOptions{Capabilities: upstreamCapabilities()})
	for _, e := range c.Entries() {
		safely(func() { ref.AddTool(e.Tool, g.toolHandler) })
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, version := range []string{ProtocolV20251125, ProtocolV20260728} {
		pages := func(s *mcp.Server) []string {
			ct, st := mcp.NewInMemoryTransports()
			if _, err := s.Connect(ctx, st, nil); err != nil {
				t.Fatal(err)
			}
			rt := &rawResults{Transport: ct, results: make(chan []byte, 1)}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, rt, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			for len(rt.results) > 0 {
				<-rt.results
			}
			var out []string
			params := &mcp.ListToolsParams{}
			for {
				res, err := cs.ListTools(ctx, params)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, normalizeCursor(t, <-rt.results))
				if res.NextCursor == "" {
					return out
				}
				params = &mcp.ListToolsParams{Cursor: res.NextCursor}
			}
		}
		want, got := pages(ref), pages(g.server)
		if version < ProtocolV20260728 {
			for i := range want {
				want[i] = strings.Replace(want[i], `"ttlMs":0,"cacheScope":"public",`, "", 1)
			}
		}
		if len(want) != 3 {
			t.Fatalf("%s: the SDK answered %d pages; the test wants 3", version, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d pages, the SDK %d", version, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: page %d differs:\n got %.300s…\nwant %.300s…", version, i, got[i], want[i])
			}
		}
		if strings.Contains(strings.Join(got, ""), "header_bad") {
			t.Errorf("%s: a tool the SDK rejects is listed", version)
		}
	}
}

// normalizeCursor replaces a result's cursor by what it encodes: gob
// numbers types per process in the order it meets them, so the SDK's
// cursors and the gateway's differ in bytes while naming the same place.
func normalizeCursor(t *testing.T, result []byte) string {
	var r struct {
		NextCursor string `json:"nextCursor"`
	}
	if err := json.Unmarshal(result, &r); err != nil {
		t.Fatal(err)
	}
	if r.NextCursor == "" {
		return string(result)
	}
	uid, err := catalog.DecodeCursor(r.NextCursor)
	if err != nil {
		t.Fatalf("cursor %q: %v", r.NextCursor, err)
	}
	return strings.Replace(string(result), r.NextCursor, "cursor:"+uid, 1)
}

// TestCallsThroughDispatcher calls tools the SDK server does not know by
// name (and one it does) through the gateway, and names it does not list.
func TestCallsThroughDispatcher(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	echo := func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Params.Name + " " + string(req.Params.Arguments)}}}, nil
	}
	s.AddTool(&mcp.Tool{Name: "plain", InputSchema: map[string]any{"type": "object"}}, echo)
	s.AddTool(&mcp.Tool{Name: "regional", InputSchema: map[string]any{"type": "object", "properties": map[string]any{
		"region": map[string]any{"type": "string", "x-mcp-header": "Region"}}}}, echo)
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	defer srv.Close()

	g := New(nil)
	defer g.Close()
	g.Apply([]ServerSpec{{Name: "r", URL: srv.URL, Prefix: "r"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ct, st := mcp.NewInMemoryTransports()
	if _, err := g.server.Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: ProtocolV20251125})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "r__plain,r__regional" {
		t.Fatalf("tools = %v", names)
	}
	if l := g.listing.Load(); !l.Whole("r__regional") || l.Whole("r__plain") {
		t.Errorf("registered whole: r__regional %v, r__plain %v; want only r__regional", l.Whole("r__regional"), l.Whole("r__plain"))
	}
	for _, name := range []string{"r__plain", "r__regional"} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"region": "eu"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := strings.TrimPrefix(name, "r__") + ` {"region":"eu"}`
		if tc, ok := res.Content[0].(*mcp.TextContent); !ok || tc.Text != want {
			t.Errorf("%s: %+v, want %q", name, res.Content[0], want)
		}
	}
	// Names nobody lists are answered as a server answers them: a result
	// with isError, naming what the agent may have meant.
	for name, want := range map[string]string{
		"nope":       `unknown tool "nope": no server behind mcpgw lists it`,
		dispatchTool: fmt.Sprintf("unknown tool %q", dispatchTool),
		"plain":      `did you mean "r__plain"?`,
		"r__regonal": `did you mean "r__regional"?`,
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name})
		if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, want) {
			t.Errorf("calling %q: %+v, %v; want an isError result saying %q", name, res, err, want)
		}
	}
}

// TestToolListKeepsServerOrder lists tools in the order servers listed them
// (servers in config order), across pages.
func TestToolListKeepsServerOrder(t *testing.T) {
	var a, b []*mcp.Tool
	var want []string
	for i := range mcp.DefaultPageSize + 5 {
		name := fmt.Sprintf("t%d", (i*7919)%(mcp.DefaultPageSize+5)) // not sorted
		a = append(a, &mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}})
		want = append(want, "z__"+name)
	}
	b = append(b, &mcp.Tool{Name: "first", InputSchema: map[string]any{"type": "object"}})
	want = append(want, "a__first")
	g := New(nil)
	defer g.Close()
	c := catalog.Merge(nil, []catalog.Source{{Server: "z", Prefix: "z", Snap: &catalog.Snapshot{Tools: a}}, {Server: "a", Prefix: "a", Snap: &catalog.Snapshot{Tools: b}}})
	g.cat.Store(c)
	g.syncTools(c)
	var got []string
	cursor := ""
	for {
		res, err := g.listing.Load().Answer(cursor, true)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(res)
		var page mcp.ListToolsResult
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, tl := range page.Tools {
			got = append(got, tl.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listing order (-want +got):\n%s", diff)
	}
}
