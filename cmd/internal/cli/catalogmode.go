package cli

import (
	"reflect"
	"sync/atomic"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
)

// catalogModes answers the gateway's [mux.Options].Catalog from the
// configuration's catalog: keys, following it as it is reloaded.
type catalogModes struct {
	cfg atomic.Pointer[config.Config]
}

func newCatalogModes(cfg *config.Config) *catalogModes {
	m := &catalogModes{}
	m.cfg.Store(cfg)
	return m
}

// mode is the catalog mode of agents under profile.
func (m *catalogModes) mode(profile string) mux.CatalogMode {
	c := m.cfg.Load().CatalogFor(profile)
	return mux.CatalogMode{Search: c.Search(), Always: c.Always}
}

// update switches to cfg's catalog keys, and reports whether they changed
// (agents must then be told their tool lists changed).
func (m *catalogModes) update(cfg *config.Config) bool {
	old := m.cfg.Swap(cfg)
	return !reflect.DeepEqual(old.Catalog, cfg.Catalog) || !reflect.DeepEqual(old.ProfileCatalogs, cfg.ProfileCatalogs)
}
