package policy

import (
	"strconv"
	"strings"
)

// key appends a map key to a rule id: ".web" for a plain key, `["eng.web"]`
// for one that would not read as a single segment.
func key(id, k string) string {
	if k == "*" || k != "" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@") == "" {
		return id + "." + k
	}
	return id + "[" + strconv.Quote(k) + "]"
}

func index(id string, i int) string { return id + "[" + strconv.Itoa(i) + "]" }

// quoted lists patterns for a reason: "get_*", "list_*".
func quoted(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = strconv.Quote(p)
	}
	return strings.Join(q, ", ")
}
