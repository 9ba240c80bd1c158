package policy

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// SelectProfile chooses the profile for an agent: the one named explicitly
// (--profile, say) if any, which must exist; else the first, in file
// order, whose match.client glob fits the agent's clientInfo name; else
// none ("").
func (e *Engine) SelectProfile(explicit, client string) (string, error) {
	if explicit != "" {
		if e.profile(explicit) == nil {
			return "", e.noProfile(explicit)
		}
		return explicit, nil
	}
	client = strings.ToLower(client)
	for _, p := range e.profiles {
		if p.hasClient && p.client.match(client) {
			return p.name, nil
		}
	}
	return "", nil
}

func (e *Engine) noProfile(name string) error {
	if len(e.profiles) == 0 {
		return fmt.Errorf("profile %q is not defined: the policy has no profiles", name)
	}
	names := e.Profiles()
	for i := range names {
		names[i] = strconv.Quote(names[i])
	}
	return fmt.Errorf("profile %q is not defined; the policy defines %s", name, strings.Join(names, ", "))
}

// ProfileResolver returns the [Stage]'s profile resolver for e: each
// session's profile, by explicit name if given (checked now) or by the
// agent's clientInfo name; selections are remembered per client name.
// A nil Engine resolves no profile.
func ProfileResolver(e *Engine, explicit string) (func(callpath.Session) string, error) {
	if e == nil {
		if explicit != "" {
			return nil, fmt.Errorf("profile %q is not defined: there is no policy", explicit)
		}
		return func(callpath.Session) string { return "" }, nil
	}
	if explicit != "" {
		if _, err := e.SelectProfile(explicit, ""); err != nil {
			return nil, err
		}
		return func(callpath.Session) string { return explicit }, nil
	}
	if len(e.profiles) == 0 {
		return func(callpath.Session) string { return "" }, nil
	}
	var byClient sync.Map
	return func(s callpath.Session) string {
		client, _ := s.Client()
		if p, ok := byClient.Load(client); ok {
			return p.(string)
		}
		p, _ := e.SelectProfile("", client)
		byClient.Store(client, p)
		return p
	}, nil
}
