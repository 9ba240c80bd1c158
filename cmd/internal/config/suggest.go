package config

import (
	"fmt"
	"strings"
)

// unknownKeyMsg says that key is not one of allowed, suggesting the closest
// allowed key when one is near enough to be a likely typo.
func unknownKeyMsg(key string, allowed []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if s := closest(key, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg + "; allowed keys: " + strings.Join(allowed, ", ")
}

// closest returns the candidate nearest to word, or "" if none is close.
func closest(word string, candidates []string) string {
	best, bestDist := "", -1
	lower := strings.ToLower(word)
	for _, c := range candidates {
		d := editDistance(lower, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// Allow roughly one typo per three letters, and at least one.
	if bestDist < 0 || bestDist > max(1, len(best)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting an
// adjacent transposition as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
