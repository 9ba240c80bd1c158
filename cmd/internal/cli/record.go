package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/proc"
	"github.com/mcpgw/mcpgw/policy/guard"
	"github.com/mcpgw/mcpgw/policy/pin"
)

// gatewayRecord is the call record a gateway writes to: the database, the
// recorder in front of it, and the adapter the gateway sees.
type gatewayRecord struct {
	db  *logs.DB
	rec *logs.Recorder
	cfg *config.Config
	// pins is the pinning stage over this record (nil when pinning is
	// off), made by options.
	pins *pin.Stage
}

// openGatewayRecord opens the record for a gateway as cfg.Logs says; nil when
// recording is off. known masks resolved secrets in what is stored. A
// record that cannot be opened is reported and the gateway runs without
// one, unless logs.strict asks for every call to be recorded.
func openGatewayRecord(ctx context.Context, f *Factory, cfg *config.Config, dbFlag string, known *guard.Known, gd *gatewayGuard, logger *slog.Logger) (*gatewayRecord, error) {
	if !cfg.Logs.IsEnabled() {
		return nil, nil
	}
	fail := func(err error) (*gatewayRecord, error) {
		if cfg.Logs.Strict {
			return nil, withCode(ExitError, fmt.Errorf("%w (logs.strict is set, so mcpgw does not run without its record)", err))
		}
		logger.Warn("calls will not be recorded", "err", err)
		return nil, nil
	}
	path, err := f.DBPath(cfg, dbFlag)
	if err != nil {
		return fail(err)
	}
	payloads, err := logs.ParsePayloadMode(cfg.Logs.Payloads)
	if err != nil {
		return fail(err)
	}
	// The gateway appends and rarely reads back: a 512 KiB page cache per
	// connection instead of 2 MiB (measured: 3 MB less RSS after 100k
	// calls).
	db, err := logs.Open(ctx, path, &logs.OpenOptions{CacheKiB: 512})
	if err != nil {
		return fail(err)
	}
	var red logs.Redactor = known
	if gd != nil && payloads != logs.PayloadsFull {
		// What the guardrails find is masked in the record too: a blocked
		// call's arguments never reach the file.
		red = guard.RecordRedactor{Known: known, Guard: gd.Guard}
	}
	rec := logs.NewRecorder(db, &logs.RecorderOptions{
		Payloads:        payloads,
		MaxPayloadBytes: cfg.Logs.MaxPayloadBytes,
		Redactor:        red,
		Retention:       logs.Retention{MaxAge: cfg.Logs.Retention.MaxAge, MaxSize: cfg.Logs.Retention.MaxSize},
		OnDrop: func(n int64, err error) {
			logger.Warn("calls not recorded", "dropped_total", n, "err", err, "db", path)
		},
	})
	return &gatewayRecord{db: db, rec: rec, cfg: cfg}, nil
}

// options hands the record to the gateway.
func (r *gatewayRecord) options(o *mux.Options, strict bool) {
	if r == nil {
		return
	}
	o.Recorder = recorderAdapter{r.rec}
	o.RecordStrict = strict
	o.CatalogCache = catalogCache{r.db, o.Logger}
	// Pins live in the record: every gateway that has one pins what it
	// sees, and holds what changed.
	if r.pins = pinning(context.Background(), r.db, r.cfg, o.Logger); r.pins != nil {
		o.Stages = append(o.Stages, r.pins.InCallPath())
	}
}

// statusOptions has a serving gateway keep its servers' status in the
// record, for `mcpgw tools` and `mcpgw doctor` in other processes.
func (r *gatewayRecord) statusOptions(o *mux.Options, configPath string) {
	if r == nil {
		return
	}
	o.Status = r.db
	o.ConfigPath = configPath
}

// sweep kills the servers gateways that died without cleaning up left
// running, and forgets those gateways' status.
func (r *gatewayRecord) sweep(logger *slog.Logger) {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := r.db.ServerStatuses(ctx)
	if err != nil {
		logger.Warn("leftover servers not swept", "err", err)
		return
	}
	s := proc.SweepLeftovers(rows)
	for _, k := range s.Killed {
		logger.Info("stopped a server left running by a gateway that died", "server", k.Server, "pid", k.ServerPID, "gateway_pid", k.Gateway.PID)
	}
	for _, gw := range s.Dead {
		if err := r.db.DeleteServerStatus(ctx, gw.PID); err != nil {
			logger.Warn("status of a dead gateway not removed", "gateway_pid", gw.PID, "err", err)
		}
	}
}

// catalogCache keeps servers' catalogs in the record database.
type catalogCache struct {
	db     *logs.DB
	logger *slog.Logger
}

func (c catalogCache) LoadCatalog(server, fingerprint string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, ok, err := c.db.LoadCatalog(ctx, server, fingerprint)
	if err != nil && c.logger != nil {
		c.logger.Warn("catalog cache not read", "server", server, "err", err)
	}
	return b, ok
}

func (c catalogCache) SaveCatalog(server, fingerprint string, catalog []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.db.SaveCatalog(ctx, server, fingerprint, catalog); err != nil && c.logger != nil {
		c.logger.Warn("catalog cache not written", "server", server, "err", err)
	}
}

// close flushes what is queued, within a few seconds, and closes the file.
func (r *gatewayRecord) close() {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.rec.Close(ctx)
	r.db.Close()
}

// recorderAdapter is a [logs.Recorder] as the gateway's [mux.Recorder].
type recorderAdapter struct{ r *logs.Recorder }

func (a recorderAdapter) Record(c logs.Call, args, result []byte) {
	a.r.Record(logs.Entry{Call: c, Args: args, Result: result})
}

func (a recorderAdapter) RecordSync(ctx context.Context, c logs.Call, args, result []byte) error {
	return a.r.RecordSync(ctx, logs.Entry{Call: c, Args: args, Result: result})
}
