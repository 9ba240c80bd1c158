package main

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServeHTTP drives `mcpgw serve --http` with the go-sdk streamable
// client at each protocol version: sessions for 2025-11-25 (so the server
// can ask the client for input mid-call), stateless requests for 2026-07-28
// (input requests come back as input_required, which the SDK client
// fulfils and retries).
func TestServeHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := serveHTTP(t, ctx, writeConfig(t, fixtureConfig(testenv.Fixture(t))))

	for _, v := range agentVersions {
		t.Run(v, func(t *testing.T) {
			client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, &mcp.ClientOptions{
				ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "http-" + v}}, nil
				},
			})
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: v})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer cs.Close()
			if got := cs.InitializeResult().ProtocolVersion; got != v {
				t.Errorf("negotiated %s, want %s", got, v)
			}
			tools, err := cs.ListTools(ctx, nil)
			if err != nil || len(tools.Tools) == 0 {
				t.Fatalf("tools/list: %v", err)
			}
			if got := textOf(t, call(t, ctx, &agent{cs: cs}, "fx__echo", map[string]any{"text": "over http"})); got != "over http" {
				t.Errorf("echo = %q", got)
			}
			if got := textOf(t, call(t, ctx, &agent{cs: cs}, "fx__elicit", map[string]any{"message": "name?"})); !strings.Contains(got, "http-"+v) {
				t.Errorf("elicit over http = %q", got)
			}
		})
	}
}

// TestElicitationDeclinedWithoutSupport checks that an agent without
// elicitation or sampling gets a clear error from a server that asks.
func TestElicitationDeclinedWithoutSupport(t *testing.T) {
	bin := testenv.Mcpgw(t)
	cfgPath := writeConfig(t, fixtureConfig(testenv.Fixture(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "plain-agent", Version: "1"}, &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}})
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: exec.Command(bin, "serve", "--config", cfgPath)}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for _, c := range []struct{ tool, arg, word string }{{"fx__elicit", "message", "elicitation"}, {"fx__sample", "prompt", "sampling"}} {
		tool, word := c.tool, c.word
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{c.arg: "x"}})
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if got := textOf(t, res); !res.IsError || !strings.Contains(strings.ToLower(got), word) {
			t.Errorf("%s without agent support: isError=%v %q; want an error naming %s", tool, res.IsError, got, word)
		}
	}
}

// TestHTTPFrontSpeaksAgentVersion starts servers with the first HTTP agent,
// in the protocol version it negotiated, not a default; and tells them the
// capabilities that agent has (here sampling, not elicitation), as stdio
// does.
func TestHTTPFrontSpeaksAgentVersion(t *testing.T) {
	for _, v := range []string{"2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			url := serveHTTP(t, ctx, writeConfig(t, fixtureConfig(testenv.Fixture(t))))
			client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, &mcp.ClientOptions{
				Capabilities: &mcp.ClientCapabilities{Sampling: &mcp.SamplingCapabilities{}},
				CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					return nil, errors.New("not asked here")
				}})
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: v})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer cs.Close()
			var told struct {
				ProtocolVersion string                  `json:"protocolVersion"`
				Capabilities    *mcp.ClientCapabilities `json:"capabilities"`
			}
			if err := json.Unmarshal([]byte(textOf(t, call(t, ctx, &agent{cs: cs}, "fx__session", nil))), &told); err != nil {
				t.Fatal(err)
			}
			if told.ProtocolVersion != v {
				t.Errorf("the server was spoken to at %s; the agent negotiated %s", told.ProtocolVersion, v)
			}
			if v < "2026-07-28" && (told.Capabilities == nil || told.Capabilities.Sampling == nil || told.Capabilities.Elicitation != nil) {
				t.Errorf("the server was told capabilities %+v; want the agent's: sampling, no elicitation", told.Capabilities)
			}
		})
	}
}
