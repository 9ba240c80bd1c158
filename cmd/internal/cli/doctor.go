package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// DoctorOptions are the inputs of `mcpgw doctor`.
type DoctorOptions struct {
	IO      *IOStreams
	Factory *Factory
	Output  string
	DB      string
	NoStart bool
	Timeout time.Duration
}

// Check results, from best to worst.
const (
	checkOK   = "ok"
	checkOff  = "off"
	checkWarn = "warn"
	checkFail = "fail"
)

// doctorCheck is one line of the report.
type doctorCheck struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
	// ElapsedMs is how long a server took to start, initialize and list
	// (or to fail), from the moment doctor started it.
	ElapsedMs *int64 `json:"elapsedMs,omitempty"`
	// Stderr are a failed server's last stderr lines.
	Stderr []string `json:"stderr,omitempty"`
	code   int      // exit code when it fails
}

// doctorReport is everything doctor found.
type doctorReport struct {
	Checks   []doctorCheck   `json:"checks"`
	Gateways []gatewayStatus `json:"gateways"`
}

func (r *doctorReport) add(c doctorCheck) { r.Checks = append(r.Checks, c) }

// NewCmdDoctor builds `mcpgw doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, the servers, the keychain and the record",
		Long: `Doctor checks what mcpgw needs, without changing anything: the configuration
parses; the managed policy and the configuration's policy load; the OS
keychain answers; each server's command is found (as mcpgw serve would find
it, login shell PATH included) and its secrets resolve; each enabled server
starts, initializes and lists its catalog, and how long that took (with
--no-start it is not started); mcpgw serve can write the record (a file is
made and removed beside it to know), its size, and what every running mcpgw
serve sees of its servers right now (state, restarts, last error, last
stderr lines). Each problem comes with its fix.

It exits 0 when nothing failed; otherwise with the code of the first failing
check: 3 (configuration), 6 (a secret or the keychain), 5 (a server), or 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.DB, "db", "", "record database (env MCPGW_DB; default: logs.path, or the default location)")
	cmd.Flags().BoolVar(&opts.NoStart, "no-start", false, "check commands and secrets without starting the servers")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 60*time.Second, "how long to wait for all servers to start (each also has its timeouts.connect)")
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runDoctor(ctx context.Context, opts *DoctorOptions) error {
	format, err := resolveFormat(opts.IO, opts.Output)
	if err != nil {
		return err
	}
	d := &doctorRun{opts: opts, report: &doctorReport{Checks: []doctorCheck{}, Gateways: []gatewayStatus{}}}
	for _, section := range doctorSections {
		section(ctx, d)
	}
	r := d.report

	if format == FormatJSON {
		if err := printJSON(opts.IO.Out, r); err != nil {
			return err
		}
	} else if err := printDoctor(opts.IO, r); err != nil {
		return err
	}
	// The report said what failed; the error only counts, with the first
	// failure's code.
	code, failed := ExitOK, 0
	for _, c := range r.Checks {
		if c.Status == checkFail {
			if failed == 0 {
				code = c.code
			}
			failed++
		}
	}
	if failed > 0 {
		return withCode(code, fmt.Errorf("%d of %d checks failed", failed, len(r.Checks)))
	}
	return nil
}

// doctorRun is one run of doctor: its options, the configuration once
// loaded (nil when there is none to check) and the report so far.
type doctorRun struct {
	opts   *DoctorOptions
	cfg    *config.Config
	report *doctorReport
	// failed are the servers a check without starting them already
	// failed; their start is not reported again.
	failed map[string]bool
}

// doctorSections are doctor's checks, in the order of the report. Each
// adds its lines to the report; the ones after the configuration read
// d.cfg.
var doctorSections = []func(context.Context, *doctorRun){
	func(_ context.Context, d *doctorRun) { d.cfg = doctorConfig(d.opts.Factory, d.report) },
	doctorPolicy,
	doctorKeychain,
	func(ctx context.Context, d *doctorRun) {
		if d.cfg != nil {
			d.failed = doctorServers(ctx, d.opts.Factory, d.cfg, d.report)
		}
	},
	func(ctx context.Context, d *doctorRun) {
		if d.cfg != nil && !d.opts.NoStart {
			doctorStart(ctx, d.opts, d.cfg, d.failed, d.report)
		}
	},
	func(ctx context.Context, d *doctorRun) { doctorRecord(ctx, d.opts.Factory, d.cfg, d.opts.DB, d.report) },
	doctorAgents,
}

// doctorConfig loads the configuration; nil when there is none to check.
func doctorConfig(f *Factory, r *doctorReport) *config.Config {
	path, err := f.ConfigPath()
	if err != nil {
		r.add(doctorCheck{Check: "config", Status: checkFail, Detail: err.Error(), code: ExitConfig})
		return nil
	}
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && f.ConfigExplicit():
		r.add(doctorCheck{Check: "config", Status: checkFail, Detail: err.Error(), code: ExitConfig,
			Fix: "check the path given with --config or MCPGW_CONFIG, or create the file: mcpgw server add NAME -- COMMAND ARGS"})
		return nil
	case errors.Is(err, fs.ErrNotExist):
		r.add(doctorCheck{Check: "config", Status: checkWarn, Detail: "no configuration at " + path + "; mcpgw serve runs with no servers",
			Fix: "add a server: mcpgw server add NAME -- COMMAND ARGS"})
		return nil
	case err != nil:
		r.add(doctorCheck{Check: "config", Status: checkFail, Detail: err.Error(), Fix: "edit " + path + " (or mcpgw server edit)", code: ExitConfig})
		return nil
	}
	enabled := 0
	for _, s := range cfg.Servers {
		if s.IsEnabled() {
			enabled++
		}
	}
	r.add(doctorCheck{Check: "config", Status: checkOK, Detail: fmt.Sprintf("%s: %d servers, %d enabled", cfg.Path, len(cfg.Servers), enabled)})
	return cfg
}

// doctorServers checks each server's command and secrets as a start would
// resolve them, without starting anything, and returns the servers that
// failed.
func doctorServers(ctx context.Context, f *Factory, cfg *config.Config, r *doctorReport) map[string]bool {
	failed := map[string]bool{}
	var store keystore.Store // opened on the first reference
	for _, name := range cfg.Order {
		s := cfg.Servers[name]
		check := "server " + name
		if !s.IsEnabled() {
			r.add(doctorCheck{Check: check, Status: checkOff, Detail: "disabled"})
			continue
		}
		c := doctorCheck{Check: check, Status: checkOK}
		switch {
		case s.Command != "":
			prog, err := proc.LookCommand(s.Command, s.Env, s.Cwd)
			if err != nil {
				c.Status, c.Detail, c.code = checkFail, err.Error(), ExitUnavailable
				c.Fix = "install it, or write its full path in command: (mcpgw server edit " + name + ")"
				break
			}
			c.Detail = s.Command + " → " + prog
			if s.Cwd != "" {
				if fi, err := os.Stat(s.Cwd); err != nil || !fi.IsDir() {
					c.Status, c.Detail, c.code = checkFail, fmt.Sprintf("cwd %s is not a directory", s.Cwd), ExitUnavailable
				}
			}
		default:
			c.Detail = s.URL
		}
		if s.Lazy() {
			c.Detail += " (starts on first use)"
		}
		if c.Status == checkFail {
			failed[name] = true
		}
		r.add(c)
		for _, ref := range s.SecretRefs() {
			if store == nil {
				store = f.Keystore(cfg)
			}
			row := resolveRow(ctx, store, ref, []string{name})
			sc := doctorCheck{Check: "secret " + ref, Status: checkOK, Detail: fmt.Sprintf("%s (used by %s)", row.Status, name)}
			if row.Error != "" {
				sc.Status, sc.Detail, sc.code = checkFail, row.Error, ExitSecret
				if row.Status == "missing" {
					sc.Fix = "mcpgw secret set " + ref
				}
				failed[name] = true
			}
			r.add(sc)
		}
		if s.IsRemote() {
			if store == nil {
				store = f.Keystore(cfg)
			}
			if lc, ok := loginCheck(ctx, store, s); ok {
				r.add(lc)
			}
		}
	}
	return failed
}

// doctorRecord checks the record database and reads the running gateways'
// server status from it.
func doctorRecord(ctx context.Context, f *Factory, cfg *config.Config, flag string, r *doctorReport) {
	if cfg != nil && !cfg.Logs.IsEnabled() {
		r.add(doctorCheck{Check: "record", Status: checkOff, Detail: "logs.enabled is false: calls are not recorded, and running gateways cannot be shown"})
		return
	}
	path, err := f.DBPath(cfg, flag)
	if err != nil {
		r.add(doctorCheck{Check: "record", Status: checkFail, Detail: err.Error(), code: ExitError})
		return
	}
	werr := recordWritable(path)
	if werr != nil {
		// What serve needs: without it, calls go unrecorded (or, with
		// logs.strict, serve does not run).
		r.add(doctorCheck{Check: "record", Status: checkFail, Detail: "mcpgw serve cannot write the record " + path + ": " + werr.Error(), code: ExitError,
			Fix: "make it writable for this user, or record elsewhere with logs.path in the config (or MCPGW_DB)"})
	}
	ok, err := recordExists(path)
	switch {
	case err != nil && werr == nil:
		r.add(doctorCheck{Check: "record", Status: checkFail, Detail: err.Error(), code: ExitError})
		return
	case err != nil:
		return // said above
	case !ok && werr == nil:
		r.add(doctorCheck{Check: "record", Status: checkOK, Detail: noRecord(path)})
		return
	case !ok:
		return
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		r.add(doctorCheck{Check: "record", Status: checkFail, Detail: err.Error(), code: ExitError})
		return
	}
	defer db.Close()
	c := doctorCheck{Check: "record", Status: checkOK}
	if werr != nil {
		c.Check = "record contents" // readable, though serve cannot write it
	}
	n, err := db.Count(ctx)
	if err != nil {
		r.add(doctorCheck{Check: "record", Status: checkFail, Detail: err.Error(), code: ExitError})
		return
	}
	c.Detail = fmt.Sprintf("%s: %d calls", path, n)
	if fi, err := os.Stat(path); err == nil {
		c.Detail += ", " + fmtBytes(fi.Size())
	}
	if d, err := db.Dropped(ctx); err == nil && d.Total > 0 {
		c.Status = checkWarn
		last := d.Processes[0]
		c.Detail += fmt.Sprintf(", %d not recorded (last by pid %d at %s: %s)", d.Total, last.PID, last.Last.Local().Format(time.DateTime), last.Reason)
		c.Fix = "see mcpgw logs stats; a full or read-only disk is the usual cause"
	}
	r.add(c)

	rows, err := db.ServerStatuses(ctx)
	if err != nil {
		r.add(doctorCheck{Check: "gateways", Status: checkFail, Detail: err.Error(), code: ExitError})
		return
	}
	r.Gateways = groupGateways(rows, proc.GatewayAlive)
	if len(r.Gateways) == 0 {
		r.add(doctorCheck{Check: "gateways", Status: checkOK, Detail: "no mcpgw serve is running with this record"})
	}
	for _, g := range r.Gateways {
		check := fmt.Sprintf("gateway %d", g.PID)
		if !g.Alive {
			r.add(doctorCheck{Check: check, Status: checkWarn, Detail: fmt.Sprintf("%s died without stopping cleanly (last seen %s)", g.title(), g.Updated.Local().Format(time.DateTime)),
				Fix: "the next mcpgw serve stops any server it left running"})
			continue
		}
		r.add(doctorCheck{Check: check, Status: checkOK, Detail: g.title() + ": " + g.summary()})
		for _, s := range g.Servers {
			switch s.State {
			case mux.StateFailed:
				r.add(doctorCheck{Check: fmt.Sprintf("gateway %d: %s", g.PID, s.Server), Status: checkFail, Detail: s.problem(), code: ExitUnavailable})
			case mux.StateNeedsLogin:
				r.add(doctorCheck{Check: fmt.Sprintf("gateway %d: %s", g.PID, s.Server), Status: checkWarn, Detail: "needs an OAuth login; its tools are not listed",
					Fix: "mcpgw auth login " + s.Server})
			}
		}
	}
}

// recordWritable checks, without changing anything that stays, that
// mcpgw serve can write the record at path: the file if it exists, and its
// directory (or the nearest one that exists, where serve would create the
// rest), where SQLite keeps its -wal and -shm files beside it.
func recordWritable(path string) error {
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", dir)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
			return err
		}
		dir = filepath.Dir(dir)
	}
	// A file made and removed at once is the only sure test: permissions,
	// ACLs, read-only mounts and a full disk all show.
	f, err := os.CreateTemp(dir, ".mcpgw-doctor-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// printDoctor prints the report as a table, then each problem in full with
// what to do about it.
func printDoctor(s *IOStreams, r *doctorReport) error {
	t := newTable(s.Out, "CHECK", "STATUS", "DETAIL")
	for _, c := range r.Checks {
		t.row(c.Check, c.Status, oneLine(c.Detail, 100))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, c := range r.Checks {
		if c.Status != checkFail && c.Status != checkWarn {
			continue
		}
		fmt.Fprintf(s.Out, "\n%s (%s): %s\n", c.Check, c.Status, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(s.Out, "  fix: %s\n", c.Fix)
		}
	}
	return nil
}
