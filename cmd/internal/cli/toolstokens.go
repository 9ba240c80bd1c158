package cli

import (
	"fmt"
	"slices"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
)

// tokensMethod says how tokens are estimated. No tokenizer of the models
// agents run is published as a Go module; a quarter of the bytes is the
// usual rule of thumb for JSON and English text.
const tokensMethod = "estimated tokens = bytes / 4, rounded up"

// estTokens is n bytes in estimated tokens.
func estTokens(n int) int { return (n + 3) / 4 }

// toolsTokensJSON is `mcpgw tools --tokens -o json`.
type toolsTokensJSON struct {
	Method string        `json:"method"`
	Full   modeTokenJSON `json:"full"`
	Search modeTokenJSON `json:"search"`
	// Ratio is full bytes over search bytes.
	Ratio float64 `json:"ratio"`
}

type modeTokenJSON struct {
	mux.ListSize
	Tokens  int                `json:"tokens"`
	Servers []serverTokensJSON `json:"servers"`
}

type serverTokensJSON struct {
	mux.ServerListSize
	Tokens int `json:"tokens"`
}

func modeTokens(s mux.ListSize, server string) modeTokenJSON {
	out := modeTokenJSON{ListSize: s, Tokens: estTokens(s.Bytes), Servers: []serverTokensJSON{}}
	for _, sv := range s.Servers {
		if server == "" || sv.Server == server {
			out.Servers = append(out.Servers, serverTokensJSON{ServerListSize: sv, Tokens: estTokens(sv.Bytes)})
		}
	}
	out.ListSize.Servers = nil
	return out
}

// printToolsTokens prints what tools/list weighs in each catalog mode,
// per server (only server's, when set) and in total; search mode lists the
// top level's catalog.always tools as well.
func printToolsTokens(s *IOStreams, format string, g *mux.Gateway, cfg *config.Config, server string) error {
	full, search, err := g.ToolsListSizes(cfg.CatalogFor("").Always)
	if err != nil {
		return fmt.Errorf("measuring tools/list: %w", err)
	}
	out := toolsTokensJSON{Method: tokensMethod, Full: modeTokens(full, server), Search: modeTokens(search, server)}
	if search.Bytes > 0 {
		out.Ratio = float64(int(float64(full.Bytes)/float64(search.Bytes)*10+0.5)) / 10
	}
	if format == FormatJSON {
		return printJSON(s.Out, out)
	}
	t := newTable(s.Out, "SERVER", "TOOLS", "FULL BYTES", "FULL TOKENS", "SEARCH TOOLS", "SEARCH BYTES", "SEARCH TOKENS")
	var names []string
	for _, m := range []modeTokenJSON{out.Full, out.Search} {
		for _, sv := range m.Servers {
			if !slices.Contains(names, sv.Server) {
				names = append(names, sv.Server)
			}
		}
	}
	find := func(m modeTokenJSON, name string) serverTokensJSON {
		for _, sv := range m.Servers {
			if sv.Server == name {
				return sv
			}
		}
		return serverTokensJSON{}
	}
	for _, name := range names {
		f, sr := find(out.Full, name), find(out.Search, name)
		t.row(name, fmt.Sprint(f.Tools), fmt.Sprint(f.Bytes), fmt.Sprint(f.Tokens), fmt.Sprint(sr.Tools), fmt.Sprint(sr.Bytes), fmt.Sprint(sr.Tokens))
	}
	t.row("TOTAL (tools/list)", fmt.Sprint(out.Full.Tools), fmt.Sprint(out.Full.Bytes), fmt.Sprint(out.Full.Tokens), fmt.Sprint(out.Search.Tools), fmt.Sprint(out.Search.Bytes), fmt.Sprint(out.Search.Tokens))
	if err := t.flush(); err != nil {
		return err
	}
	if out.Ratio > 0 {
		fmt.Fprintf(s.Out, "\nsearch mode's tools/list is %.1fx smaller (%s)\n", out.Ratio, tokensMethod)
	}
	return nil
}
