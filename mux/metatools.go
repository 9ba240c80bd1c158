package mux

// The gateway's own tools in search mode, and what they and initialize's
// instructions tell the model (see search.go).

import (
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The gateway's tools in search mode.
const (
	SearchToolsTool  = "mcpgw__search_tools"
	DescribeToolTool = "mcpgw__describe_tool"
	CallToolTool     = "mcpgw__call_tool"
	metaPrefix       = "mcpgw__"
)

// defaultSearchLimit and maxSearchLimit bound mcpgw__search_tools' limit.
const (
	defaultSearchLimit = 8
	maxSearchLimit     = 50
)

// searchGuide is the gateway's part of initialize's instructions in
// search mode: what the model can find, and how.
func searchGuide(servers string) string {
	return "This gateway does not list its servers' tools up front. To do anything with the servers below, first call " +
		SearchToolsTool + " with a few words describing the task (it ranks the tools by name, description and parameters), then " +
		DescribeToolTool + " to read a tool's full input schema if you need it, then " + CallToolTool +
		" with the tool's name and its arguments. Search again with other words when nothing fits; do not guess tool names.\n\nServers:\n" + servers
}

// metaTools are the gateway's tools, their descriptions naming servers.
func metaTools(servers string) []*mcp.Tool {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	return []*mcp.Tool{
		{
			Name:  SearchToolsTool,
			Title: "Search tools",
			Description: "Find the tools that can do a task. Call this first, whenever you need a capability you do not see listed: " +
				"pass a few words describing the task (e.g. \"read a file\", \"create an issue\"); results are the best matching tools " +
				"with their server, a one-line description and a relevance score. Then call " + CallToolTool + " (after " + DescribeToolTool +
				" if you need the arguments). Servers:\n" + servers,
			InputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"query": map[string]any{"type": "string", "description": "What you want to do, in a few words"},
					"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": maxSearchLimit, "description": fmt.Sprintf("How many tools to return (default %d)", defaultSearchLimit)},
				},
				"required": []any{"query"},
			},
			OutputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"tools": map[string]any{"type": "array", "items": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"name":        map[string]any{"type": "string"},
							"server":      map[string]any{"type": "string"},
							"description": map[string]any{"type": "string"},
							"score":       map[string]any{"type": "number"},
						},
						"required": []any{"name", "server", "description", "score"},
					}},
				},
				"required": []any{"tools"},
			},
			Annotations: readOnly,
		},
		{
			Name:        DescribeToolTool,
			Title:       "Describe a tool",
			Description: "Get a tool's full definition (description, input schema, output schema) by the name " + SearchToolsTool + " gave, before calling it with " + CallToolTool + ".",
			InputSchema: map[string]any{
				"type":       "object",
				"properties": map[string]any{"name": map[string]any{"type": "string", "description": "The tool's name, as search results give it"}},
				"required":   []any{"name"},
			},
			Annotations: readOnly,
		},
		{
			Name:  CallToolTool,
			Title: "Call a tool",
			Description: "Call a tool found with " + SearchToolsTool + ", by its name, with its arguments (an object matching its input schema; see " +
				DescribeToolTool + "). The result is the tool's own.",
			InputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"name":      map[string]any{"type": "string", "description": "The tool's name, as search results give it"},
					"arguments": map[string]any{"type": "object", "description": "The tool's arguments"},
				},
				"required": []any{"name"},
			},
		},
	}
}
