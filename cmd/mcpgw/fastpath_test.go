package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestFastPathMatchesSDKPath makes the same calls through mcpgw with its raw
// tools/call fast path on and off (MCPGW_NO_FASTPATH=1), and on without
// inline answers (MCPGW_NO_INLINE=1), and requires the agent to see the
// same results, progress and errors, at both protocol generations.
func TestFastPathMatchesSDKPath(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	cfg := fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fixture)
	for _, v := range agentVersions {
		t.Run(v, func(t *testing.T) { fastMatchesSDK(t, cfg, v) })
	}
}

func fastMatchesSDK(t *testing.T, cfg, version string) {
	fast := startAgent(t, cfg, version)
	slow := startAgentEnv(t, cfg, version, "MCPGW_NO_FASTPATH=1")
	noInline := startAgentEnv(t, cfg, version, "MCPGW_NO_INLINE=1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	calls := []struct {
		name string
		args map[string]any
		meta mcp.Meta
	}{
		{"fx__echo", map[string]any{"text": "héllo \"quoted\" \u2028 line"}, nil},
		{"fx__add", map[string]any{"a": 1.5, "b": 2}, nil},
		{"fx__image", nil, nil},
		{"fx__fail", nil, nil},
		{"", nil, nil}, // the shortened long name, filled in below
		{"fx__meta", nil, mcp.Meta{"custom": "kept", "io.modelcontextprotocol/related": "dropped"}},
		{"fx__progress", map[string]any{"steps": 2}, mcp.Meta{"progressToken": 42}},
		{"fx__echo", map[string]any{"text": 5}, nil}, // the server rejects it
		{"fx__protocol_error", nil, nil},             // a JSON-RPC error, not a result
	}
	tools, err := fast.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if len(tl.Name) == 60 {
			calls[4].name = tl.Name
		}
	}
	if calls[4].name == "" {
		t.Fatal("no shortened 60-character tool name listed")
	}
	metaRes, err := fast.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__meta", Meta: calls[5].meta})
	if err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, metaRes); !strings.Contains(got, `"custom":"kept"`) || strings.Contains(got, "related") {
		t.Errorf("server saw _meta %s; want custom kept and io.modelcontextprotocol/* dropped", got)
	}
	for _, c := range calls {
		var got [3]string
		for i, a := range []*agent{fast, slow, noInline} {
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: c.name, Arguments: c.args, Meta: c.meta})
			if err != nil {
				got[i] = "error: " + err.Error()
				continue
			}
			b, _ := json.Marshal(res)
			got[i] = string(b)
		}
		if diff := cmp.Diff(got[1], got[0]); diff != "" {
			t.Errorf("%s: fast path differs from the SDK path (-sdk +fast):\n%s", c.name, diff)
		}
		if diff := cmp.Diff(got[1], got[2]); diff != "" {
			t.Errorf("%s: fast path without inline answers differs from the SDK path (-sdk +no-inline):\n%s", c.name, diff)
		}
	}
	waitFor(t, ctx, "progress on both paths", func() bool { return len(fast.progressNotes()) == 2 && len(slow.progressNotes()) == 2 })
	if diff := cmp.Diff(slow.progressNotes(), fast.progressNotes()); diff != "" {
		t.Errorf("progress differs (-sdk +fast):\n%s", diff)
	}
	if got := fast.progressNotes()[0]; got != "42:1/2" {
		t.Errorf("progress token not restored: %s", got)
	}
}

// wireLog is an HTTP transport that keeps the Content-Type of every
// response, and every response body as the agent read it.
type wireLog struct {
	mu     sync.Mutex
	types  []string
	bodies []*bytes.Buffer
}

func (c *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		c.mu.Lock()
		c.types = append(c.types, res.Header.Get("Content-Type"))
		b := &bytes.Buffer{}
		c.bodies = append(c.bodies, b)
		c.mu.Unlock()
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(res.Body, lockedWriter{&c.mu, b}), res.Body}
	}
	return res, err
}

// read returns what the agent has read of all responses so far.
func (c *wireLog) read() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s strings.Builder
	for _, b := range c.bodies {
		s.Write(b.Bytes())
	}
	return s.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestHTTPFastPathMatchesSDKPath makes the same calls as an HTTP agent
// through mcpgw with its fast path on and off (the SDK's handler), at both
// protocol generations, and requires the agent to see the same results and
// errors. At 2026-07-28 the fast path answers plain calls as
// application/json; at 2025-11-25 it answers on an event stream of its own,
// where the server's requests mid-call (elicitation, sampling) reach the
// agent under mcpgw's request ids and the agent's answers come back.
func TestHTTPFastPathMatchesSDKPath(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := writeConfig(t, fixtureConfig(testenv.Fixture(t)))
	// A gateway per version: servers speak the first agent's generation,
	// and the fast paths take calls to servers of the agent's own.
	fastURLs := map[string]string{}
	for _, v := range agentVersions {
		fastURLs[v] = serveHTTP(t, ctx, cfg)
	}
	t.Setenv("MCPGW_NO_FASTPATH", "1")
	for _, v := range agentVersions {
		slowURL := serveHTTP(t, ctx, cfg)
		t.Run(v, func(t *testing.T) { httpFastMatchesSDK(t, ctx, fastURLs[v], slowURL, v) })
	}
}

func httpFastMatchesSDK(t *testing.T, ctx context.Context, fastURL, slowURL, version string) {
	var mu sync.Mutex
	progress := map[*http.Client][]string{}
	connect := func(url string, hc *http.Client) *mcp.ClientSession {
		client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, &mcp.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
				mu.Lock()
				defer mu.Unlock()
				progress[hc] = append(progress[hc], fmt.Sprintf("%v:%v/%v %s", req.Params.ProgressToken, req.Params.Progress, req.Params.Total, req.Params.Message))
			},
			ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "agent-answer"}}, nil
			},
			CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
				return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "sampled-by-agent"}}, nil
			},
		})
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp", HTTPClient: hc}, &mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		return cs
	}
	wire, slowWire := &wireLog{}, &wireLog{}
	fastHC, slowHC := &http.Client{Transport: wire}, &http.Client{Transport: slowWire}
	fast, slow := connect(fastURL, fastHC), connect(slowURL, slowHC)
	for _, c := range []struct {
		name string
		args map[string]any
		meta mcp.Meta
	}{
		{"fx__echo", map[string]any{"text": "héllo \"quoted\" \u2028 line"}, nil},
		{"fx__add", map[string]any{"a": 1.5, "b": 2}, nil},
		{"fx__image", nil, nil},
		{"fx__fail", nil, nil},
		{"fx__meta", nil, mcp.Meta{"custom": "kept"}},
		{"fx__echo", map[string]any{"text": 5}, nil}, // the server rejects it
		{"fx__protocol_error", nil, nil},             // a JSON-RPC error, not a result
		{"nope", nil, nil},                           // the SDK's, through the fast path's fallback
		{"fx__elicit", map[string]any{"message": "name?"}, nil},
		{"fx__sample", map[string]any{"prompt": "hi"}, nil},
		{"fx__progress", map[string]any{"steps": 3}, mcp.Meta{"progressToken": 7}},
	} {
		var got [2]string
		for i, cs := range []*mcp.ClientSession{fast, slow} {
			// Twice: the fast path takes calls once the gateway has settled.
			for range 2 {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.name, Arguments: c.args, Meta: c.meta})
				if err != nil {
					got[i] = "error: " + err.Error()
					continue
				}
				b, _ := json.Marshal(res)
				got[i] = string(b)
			}
		}
		if c.name == "fx__protocol_error" && version >= "2026-07-28" {
			// The SDK's stateless handler answers a server's JSON-RPC
			// error with HTTP 400 (the client reports "Bad Request"); the
			// fast path passes the error on as the answer to the request.
			if !strings.Contains(got[0], "fixture: protocol error on purpose") {
				t.Errorf("%s: the fast path answered %s; want the server's error", c.name, got[0])
			}
			continue
		}
		if diff := cmp.Diff(got[1], got[0]); diff != "" {
			t.Errorf("%s: the HTTP fast path differs from the SDK path (-sdk +fast):\n%s", c.name, diff)
		}
	}
	// Progress on the call's own stream, before its answer: all of it.
	waitFor(t, ctx, "progress on both paths", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(progress[fastHC]) == 6 && len(progress[slowHC]) == 6
	})
	mu.Lock()
	if diff := cmp.Diff(progress[slowHC], progress[fastHC]); diff != "" {
		t.Errorf("progress differs (-sdk +fast):\n%s", diff)
	}
	mu.Unlock()
	if version >= "2026-07-28" {
		wire.mu.Lock()
		defer wire.mu.Unlock()
		if !slices.Contains(wire.types, "application/json") {
			t.Errorf("no call was answered by the HTTP fast path (response types %q)", wire.types)
		}
		return
	}
	// The fast path's own requests to the agent, on its own streams; the
	// SDK numbers its requests.
	for _, want := range []string{`"method":"elicitation/create"`, `"method":"sampling/createMessage"`} {
		if got := wire.read(); !strings.Contains(got, `{"jsonrpc":"2.0","id":"mcpgw-ask-`) || !strings.Contains(got, want) {
			t.Errorf("the fast path sent no %s of its own on a call's stream; the agent read:\n%s", want, got)
		}
	}
	if got := slowWire.read(); strings.Contains(got, "mcpgw-ask-") {
		t.Errorf("the SDK path sent mcpgw's request ids:\n%s", got)
	}
}
