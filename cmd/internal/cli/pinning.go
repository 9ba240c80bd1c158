package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/policy/pin"
)

// pinStore keeps pins in the record database, for package pin.
type pinStore struct{ db *logs.DB }

func (s pinStore) Pins(ctx context.Context) ([]pin.Pin, error) {
	rows, err := s.db.Pins(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]pin.Pin, len(rows))
	for i, r := range rows {
		out[i] = pinOf(r)
	}
	return out, nil
}

func (s pinStore) Insert(ctx context.Context, p pin.Pin) (pin.Pin, error) {
	r, err := s.db.InsertPin(ctx, rowOf(p))
	if err != nil {
		return p, err
	}
	return pinOf(r), nil
}

func (s pinStore) Saw(ctx context.Context, server, tool, hash string, def json.RawMessage, flags []string) error {
	return s.db.SawPin(ctx, server, tool, hash, def, flags)
}

func (s pinStore) Version(ctx context.Context) (string, error) { return s.db.PinsVersion(ctx) }

func pinOf(r logs.Pin) pin.Pin {
	return pin.Pin{Server: r.Server, Tool: r.Tool, Exposed: r.Exposed, Hash: r.Hash, Def: nonEmpty(r.Def),
		Seen: r.SeenHash, SeenDef: nonEmpty(r.SeenDef), Pinned: r.Pinned, New: r.New, RenamedFrom: r.RenamedFrom, Flags: r.Flags}
}

func rowOf(p pin.Pin) logs.Pin {
	return logs.Pin{Server: p.Server, Tool: p.Tool, Exposed: p.Exposed, Hash: p.Hash, Def: p.Def,
		SeenHash: p.Seen, SeenDef: p.SeenDef, Pinned: p.Pinned, New: p.New, RenamedFrom: p.RenamedFrom, Flags: p.Flags}
}

func nonEmpty(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// pinning builds the pinning stage over the record for cfg (nil when
// pinning is off), with the pins loaded and the servers' launch specs
// checked against theirs.
func pinning(ctx context.Context, db *logs.DB, cfg *config.Config, logger *slog.Logger) *pin.Stage {
	mode := cfg.Pinning.Mode()
	if db == nil || mode == "off" {
		return nil
	}
	st := &pin.Stage{Store: pinStore{db}, Mode: pin.Mode(mode), Logger: logger}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := st.Load(ctx); err != nil {
		logger.Warn("pins not read; tool definitions are pinned for this process only", "err", err)
	}
	checkSpecs(ctx, db, serverSpecs(cfg), logger)
	return st
}

// checkSpecs pins each server's launch spec on first sight, and warns
// when one changed since (`mcpgw tools approve --all` accepts it).
func checkSpecs(ctx context.Context, db *logs.DB, specs []mux.ServerSpec, logger *slog.Logger) {
	for _, s := range specs {
		canon, hash := pin.SpecHash(s.Command, s.Args, s.Cwd, s.URL, s.Transport)
		p, err := db.InsertPin(ctx, logs.Pin{Server: s.Name, Hash: hash, Def: canon, Pinned: time.Now()})
		if err != nil {
			logger.Warn("launch spec not pinned", "server", s.Name, "err", err)
			continue
		}
		switch {
		case p.Hash != hash:
			if p.SeenHash != hash {
				db.SawPin(ctx, s.Name, "", hash, canon, nil)
			}
			logger.Warn("a server's launch spec changed since it was pinned (command, args or URL); accept it with: mcpgw tools approve --all", "server", s.Name)
		case p.SeenHash != "":
			db.SawPin(ctx, s.Name, "", "", nil, nil)
		}
	}
}

// pollPins has a serving gateway pick up pins approved or imported by
// other processes, and tell agents their lists changed.
func pollPins(ctx context.Context, st *pin.Stage, g *mux.Gateway, logger *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		changed, err := st.Reload(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				logger.Debug("pins not re-read", "err", err)
			}
			continue
		}
		if changed {
			logger.Info("pins changed; applying")
			g.CatalogChanged()
		}
	}
}

// pinPollInterval is how often a serving gateway looks for pins changed by
// other processes: one small query.
const pinPollInterval = time.Second
