package catalog

import (
	"encoding/json"
	"path"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Snapshot is the query stage's output for one server: what it listed.
type Snapshot struct {
	ProtocolVersion string
	Caps            *mcp.ServerCapabilities
	Tools           []*mcp.Tool
	Prompts         []*mcp.Prompt
	Resources       []*mcp.Resource
	Templates       []*mcp.ResourceTemplate
	// Instructions are the server's, from its initialize result.
	Instructions string
	// RawTools are tools as the server encoded them, where known (a stdio
	// server is listed raw): the agent is shown them as they are, with only
	// the name changed, fields the SDK does not know and key order kept.
	RawTools map[*mcp.Tool]json.RawMessage
	// RawPrompts, RawResources and RawTemplates are the same for the
	// other lists.
	RawPrompts   map[*mcp.Prompt]json.RawMessage
	RawResources map[*mcp.Resource]json.RawMessage
	RawTemplates map[*mcp.ResourceTemplate]json.RawMessage
}

// Source is one server's snapshot with what naming needs of its spec.
type Source struct {
	Server, Prefix string
	Snap           *Snapshot // nil: the server has nothing listed
}

// FilterTools applies a server's own allow/deny globs. It runs before
// naming, policy or anything else, so nothing later can re-enable a tool it
// removed.
func FilterTools(tools []*mcp.Tool, allow, deny []string) []*mcp.Tool {
	if len(allow) == 0 && len(deny) == 0 {
		return tools
	}
	out := tools[:0:0]
	for _, t := range tools {
		if len(allow) > 0 && !MatchAny(allow, t.Name) {
			continue
		}
		if MatchAny(deny, t.Name) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// MatchAny reports whether name matches one of the path.Match globs.
func MatchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
