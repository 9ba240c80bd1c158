package mux

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// memRecorder keeps records in memory; err fails RecordSync.
type memRecorder struct {
	mu    sync.Mutex
	calls []logs.Call
	args  []string
	err   error
}

func (r *memRecorder) Record(c logs.Call, args, result []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	r.args = append(r.args, string(args))
}

func (r *memRecorder) RecordSync(_ context.Context, c logs.Call, args, result []byte) error {
	if r.err != nil {
		return r.err
	}
	r.Record(c, args, result)
	return nil
}

func (r *memRecorder) last() (logs.Call, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[len(r.calls)-1], r.args[len(r.args)-1]
}

// recordingAgent connects an in-memory agent to a gateway over one remote
// server "a".
func recordingAgent(t *testing.T, opts *Options) (*mcp.ClientSession, context.Context) {
	t.Helper()
	g := New(opts)
	t.Cleanup(func() { g.Close() })
	g.Apply([]ServerSpec{{Name: "a", URL: remoteServer(t, false), Prefix: "a"}})
	ct, st := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if _, err := g.server.Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "rec-agent", Version: "9.1"}, nil)
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: ProtocolV20251125})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, ctx
}

func TestRecordsCalls(t *testing.T) {
	rec := &memRecorder{}
	cs, ctx := recordingAgent(t, &Options{Recorder: rec, Identity: callpath.Identity{User: "ana@example.com", Team: "data", Roles: []string{"dev"}}})
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "a__whoami", Arguments: map[string]any{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	c, args := rec.last()
	if c.Method != "tools/call" || c.Server != "a" || c.Tool != "a__whoami" || c.ToolOriginal != "whoami" ||
		c.Status != logs.StatusOK || c.Agent != "rec-agent" || c.AgentVersion != "9.1" || c.User != "ana@example.com" ||
		c.Team != "data" || c.Session == "" || c.PID == 0 || c.Latency <= 0 || c.BytesOut == 0 || args != `{"x":1}` {
		t.Errorf("record = %+v, args %s", c, args)
	}
}

func TestRecordStrictFailsUnrecordedCalls(t *testing.T) {
	rec := &memRecorder{err: errors.New("disk I/O error")}
	cs, ctx := recordingAgent(t, &Options{Recorder: rec, RecordStrict: true})
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "a__whoami"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "not recorded") {
		t.Errorf("strict call with a failing record = %+v", res.Content[0])
	}
}

func TestCallStatus(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	for _, tc := range []struct {
		out  outcome
		ctx  context.Context
		want logs.Status
	}{
		{outcome{raw: []byte(`{"content":[]}`)}, bg, logs.StatusOK},
		{outcome{raw: []byte(`{"content":[],"isError": true}`)}, bg, logs.StatusToolError},
		{outcome{raw: []byte(`{"content":[{"type":"text","text":"\"isError\":true"}],"isError":false}`)}, bg, logs.StatusOK},
		// structuredContent's own isError is the tool's data, not the result's flag.
		{outcome{raw: []byte(`{"content":[],"structuredContent":{"isError":true}}`)}, bg, logs.StatusOK},
		{outcome{raw: []byte(`{"isError" :  true,"content":[{"type":"text","text":"x"}],"structuredContent":{"isError":false}}`)}, bg, logs.StatusToolError},
		{outcome{raw: []byte(`{"content":[{"type":"text","text":"say \"isError\": true\\"}],"_meta":{"k":{"isError":true}}}`)}, bg, logs.StatusOK},
		{outcome{res: &mcp.CallToolResult{IsError: true}}, bg, logs.StatusToolError},
		{timeoutResult(&downstream{spec: ServerSpec{Name: "s"}}, "t"), bg, logs.StatusTimeout},
		{failedResult(&downstream{spec: ServerSpec{Name: "s"}}, "t", errors.New("closed")), bg, logs.StatusUnavailable},
		{outcome{err: context.Canceled}, cancelled, logs.StatusCancelled},
		{outcome{err: errors.New("bad")}, bg, logs.StatusError},
	} {
		if got := callStatus(&tc.out, tc.ctx); got != tc.want {
			t.Errorf("callStatus(%+v) = %s; want %s", tc.out, got, tc.want)
		}
	}
}
