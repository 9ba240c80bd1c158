package catalog

import (
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Suggest returns up to three of names an agent may have meant by name, a
// name nobody lists: the names it is the tool part of (an agent that left
// the server prefix out), then the nearest by edit distance, roughly one
// typo per four letters.
func Suggest(name string, names []string) []string {
	var out []string
	for _, n := range names {
		if _, tool, ok := strings.Cut(n, NameSeparator); ok && tool == name {
			out = append(out, n)
		}
	}
	type near struct {
		name string
		d    int
	}
	var nears []near
	limit := max(2, len(name)/4)
	for _, n := range names {
		if d := levenshtein.ComputeDistance(name, n); d <= limit && !slices.Contains(out, n) {
			nears = append(nears, near{n, d})
		}
	}
	slices.SortStableFunc(nears, func(a, b near) int { return a.d - b.d })
	for _, n := range nears {
		out = append(out, n.name)
	}
	return out[:min(len(out), 3)]
}
