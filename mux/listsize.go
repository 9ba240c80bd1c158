package mux

import (
	"encoding/json"

	"github.com/mcpgw/mcpgw/mux/catalog"
)

// ListSize is what the tools/list answer of one catalog mode weighs, as
// the CLI's session would be sent it: every page, as encoded on the wire.
type ListSize struct {
	Tools int `json:"tools"`
	Bytes int `json:"bytes"`
	// Servers is each server's share: its tools' encodings (the gateway's
	// own tools under the server name "mcpgw").
	Servers []ServerListSize `json:"servers"`
}

// ServerListSize is one server's share of a [ListSize].
type ServerListSize struct {
	Server string `json:"server"`
	Tools  int    `json:"tools"`
	Bytes  int    `json:"bytes"`
}

// ToolsListSizes measures tools/list in full mode and in search mode
// (listing always as well), for the catalog as it stands.
func (g *Gateway) ToolsListSizes(always []string) (full, search ListSize, err error) {
	cli := &agentSession{g: g, cli: true}
	visible := g.toolsFor(cli)
	if full, err = listSize(visible); err != nil {
		return full, search, err
	}
	search, err = listSize(g.searchListing(cli, visible, CatalogMode{Search: true, Always: always}))
	return full, search, err
}

func listSize(l *catalog.Listing) (ListSize, error) {
	s := ListSize{Tools: l.Len(), Servers: []ServerListSize{}}
	at := map[string]int{}
	for _, e := range l.Entries() {
		server := e.Server
		if server == "" {
			server = "mcpgw"
		}
		i, ok := at[server]
		if !ok {
			i = len(s.Servers)
			at[server] = i
			s.Servers = append(s.Servers, ServerListSize{Server: server})
		}
		s.Servers[i].Tools++
		s.Servers[i].Bytes += len(e.Data) + 1 // and the comma between tools
	}
	cursor := ""
	for {
		res, err := l.Answer(cursor, false)
		if err != nil {
			return s, err
		}
		b, err := catalog.MarshalNoEscape(res) // as the wire has it: json.Marshal would escape <, > and &
		if err != nil {
			return s, err
		}
		s.Bytes += len(b)
		var page struct {
			NextCursor string `json:"nextCursor"`
		}
		if json.Unmarshal(b, &page); page.NextCursor == "" {
			return s, nil
		}
		cursor = page.NextCursor
	}
}
