package config

// Diff compares two configurations by server name: added are in new but not
// old, changed are in both but not Equal (both in new's Order), and removed
// are in old but not new (in old's Order). A nil Config has no servers.
func Diff(old, new *Config) (added, removed, changed []string) {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	for _, name := range new.Order {
		was, ok := old.Servers[name]
		switch {
		case !ok:
			added = append(added, name)
		case !was.Equal(new.Servers[name]):
			changed = append(changed, name)
		}
	}
	for _, name := range old.Order {
		if _, ok := new.Servers[name]; !ok {
			removed = append(removed, name)
		}
	}
	return added, removed, changed
}
