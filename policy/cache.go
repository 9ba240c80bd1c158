package policy

import (
	"strings"
	"sync"
)

// cacheMax bounds the decision cache. Tool and prompt names are bounded by
// the catalog, but resource URIs are not; a full cache starts over.
const cacheMax = 8192

// cacheKey is everything a decision without conditions depends on.
type cacheKey struct {
	profile               string
	kind                  Kind
	server, name, exposed string
	user, team, roles     string
}

func keyOf(in *Input) cacheKey {
	return cacheKey{profile: in.Profile, kind: in.Kind, server: in.Server, name: in.Name, exposed: in.exposed(),
		user: in.Identity.User, team: in.Identity.Team, roles: strings.Join(in.Identity.Roles, "\x00")}
}

// base is the part of a decision that depends only on the key: the
// profile's narrowing, the rules that could apply, and what grants and
// the default say. When no rule applies it is the whole decision.
type base struct {
	profileSteps []Step
	rules        []*rule
	// decision is the profile's denial, or else the grants' decision with
	// the profile's steps before its own.
	decision      Decision
	profileDenied bool
	grantSteps    []Step // decision's own steps, after the profile's
}

type decisionCache struct {
	mu sync.RWMutex
	m  map[cacheKey]*base
}

func (c *decisionCache) get(k cacheKey) *base {
	c.mu.RLock()
	b := c.m[k]
	c.mu.RUnlock()
	return b
}

func (c *decisionCache) put(k cacheKey, b *base) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheMax {
		c.m = make(map[cacheKey]*base)
	}
	c.m[k] = b
	c.mu.Unlock()
}
