// Package clients owns the configuration files of the agents mcpgw serves
// (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Zed, Codex,
// Gemini CLI): where each keeps its MCP servers per OS and scope, reading
// those servers in each agent's shape, replacing them with one mcpgw entry
// while keeping the rest of the file byte for byte, and the backups and
// hashes that let mcpgw put a file back and notice when someone changed it.
package clients
