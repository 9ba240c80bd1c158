package mux

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// RunDemoServer serves the built-in example MCP server over in/out, for
// `mcpgw demo` (no network, nothing installed). name tells two instances
// apart in the merged catalog.
func RunDemoServer(ctx context.Context, name string, in io.ReadCloser, out io.WriteCloser) error {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcpgw-demo-" + name, Version: "1"}, nil)
	type echoIn struct {
		Text string `json:"text" jsonschema:"the text to echo"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo text back (" + name + ")"},
		func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name + " says: " + in.Text}}}, nil, nil
		})
	type addIn struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	type addOut struct {
		Sum float64 `json:"sum"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers; returns structured content"},
		func(ctx context.Context, req *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, addOut, error) {
			return nil, addOut{Sum: in.A + in.B}, nil
		})
	type countIn struct {
		To int `json:"to" jsonschema:"count up to this number, reporting progress"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "count", Description: "Count up, sending a progress notification per step"},
		func(ctx context.Context, req *mcp.CallToolRequest, in countIn) (*mcp.CallToolResult, any, error) {
			token := req.Params.GetProgressToken()
			var steps []string
			for i := 1; i <= in.To; i++ {
				if token != nil {
					req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i), Total: float64(in.To), Message: fmt.Sprintf("step %d", i)})
				}
				steps = append(steps, fmt.Sprint(i))
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Join(steps, " ")}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "show_config", Description: "Show this server's settings (they include a token: mcpgw's guardrails redact it)"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "name=" + name + "\nGITHUB_TOKEN=" + DemoToken()}}}, nil, nil
		})
	s.AddResource(&mcp.Resource{URI: "demo://" + name + "/readme", Name: "readme", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "This is the " + name + " demo server behind mcpgw."}}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Greet someone", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}},
		func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Say hello to " + req.Params.Arguments["who"] + " from " + name + "."}}}}, nil
		})
	return s.Run(ctx, &mcp.IOTransport{Reader: in, Writer: out})
}

// DemoToken is a made-up GitHub token, in the real format (so secret
// detection finds it) but derived from a constant, for `mcpgw demo` to show
// guardrails with: the demo servers leak it in a result, and the demo
// agent pastes it into arguments.
func DemoToken() string {
	return fmt.Sprintf("ghp_%x", sha256.Sum256([]byte("mcpgw demo token")))[:40]
}
