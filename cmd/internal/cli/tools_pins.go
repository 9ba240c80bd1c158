package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/policy/pin"
)

// newCmdToolsPins builds `mcpgw tools pins`.
func newCmdToolsPins(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pins",
		Short: "Show, compare, export and import the pinned tool definitions",
		Long: `Every tool's definition (title, description, input and output schema,
annotations) is pinned by hash the first time a gateway sees it, and every
server's launch spec (command, args and cwd, or url). A tool whose definition
later differs from its pin is held (pinning: {on_change: hold}, the default:
hidden from agents, calls refused) or listed with a warning (on_change: warn),
until you accept it with mcpgw tools approve.`,
		Args: cobra.NoArgs,
	}
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the pins: changed, new since the first pin, flagged descriptions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPinsList(cmd.Context(), f, output)
		},
	}
	addOutputFlag(list, &output)
	diff := &cobra.Command{
		Use:   "diff TOOL",
		Short: "Show how a tool's definition differs from its pin (a unified diff)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPinsDiff(cmd.Context(), f, args[0])
		},
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the pins as JSON (mcpgw tools pins export > pins.json), to commit or share",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPinsExport(cmd.Context(), f)
		},
	}
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Pin the definitions of a file written by mcpgw tools pins export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPinsImport(cmd.Context(), f, args[0])
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		},
	}
	cmd.AddCommand(list, diff, export, imp)
	return cmd
}

// newCmdToolsApprove builds `mcpgw tools approve`.
func newCmdToolsApprove(f *Factory) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "approve TOOL | --all",
		Short: "Accept a tool's changed definition: pin it as it is now",
		Long: `Approve re-pins a tool to the definition last seen of it (see the change first
with mcpgw tools pins diff TOOL). A running mcpgw serve picks the new pin up
within a second and tells its agents the tool list changed. --all approves
every changed tool and launch spec.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) || len(args) > 1 {
				return withCode(ExitUsage, errors.New("name one tool, or pass --all"))
			}
			tool := ""
			if len(args) == 1 {
				tool = args[0]
			}
			return runPinsApprove(cmd.Context(), f, tool)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "approve every changed tool and launch spec")
	return cmd
}

// openPins opens the record for the pins commands.
// openPinList opens the record and reads every pin in it; the caller
// closes the record.
func openPinList(ctx context.Context, f *Factory) (*logs.DB, []logs.Pin, error) {
	db, err := openPins(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	all, err := db.Pins(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, all, nil
}

func openPins(ctx context.Context, f *Factory) (*logs.DB, error) {
	path, err := f.logsDBPath("")
	if err != nil {
		return nil, err
	}
	ok, err := recordExists(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no pins yet: no record at %s; tools are pinned when a gateway (mcpgw serve, mcpgw tools) first sees them", path)
	}
	return logs.Open(ctx, path, nil)
}

// pinName is how the pins commands name a pin: the tool's exposed name,
// or "SERVER (launch spec)".
func pinName(p logs.Pin) string {
	if p.Tool == "" {
		return p.Server + " (launch spec)"
	}
	if p.Exposed != "" {
		return p.Exposed
	}
	return p.Server + "/" + p.Tool
}

// pinState is a pin's state in words.
func pinState(p logs.Pin) string {
	switch {
	case p.SeenHash != "" && p.SeenHash != p.Hash && p.RenamedFrom != "" && p.Hash == "":
		return "renamed from " + p.RenamedFrom
	case p.SeenHash != "" && p.SeenHash != p.Hash:
		return "changed"
	case p.New:
		return "new"
	}
	return "pinned"
}

// findPins returns the pins name matches: an exposed tool name, SERVER/TOOL,
// or a server's name for its launch spec.
func findPins(all []logs.Pin, name string) []logs.Pin {
	var out []logs.Pin
	for _, p := range all {
		if p.Tool != "" && (p.Exposed == name || p.Server+"/"+p.Tool == name) || p.Tool == "" && p.Server == name {
			out = append(out, p)
		}
	}
	return out
}

// pinJSON is one pin in `pins list -o json`.
type pinJSON struct {
	Name        string    `json:"name"`
	Server      string    `json:"server"`
	Tool        string    `json:"tool"`
	State       string    `json:"state"`
	Hash        string    `json:"hash"`
	SeenHash    string    `json:"seen_hash,omitempty"`
	Pinned      time.Time `json:"pinned"`
	New         bool      `json:"new"`
	RenamedFrom string    `json:"renamed_from,omitempty"`
	Flags       []string  `json:"flags"`
}

func runPinsList(ctx context.Context, f *Factory, output string) error {
	format, err := resolveFormat(f.IO, output)
	if err != nil {
		return err
	}
	db, all, err := openPinList(ctx, f)
	if err != nil {
		return err
	}
	defer db.Close()
	if format == FormatJSON {
		out := []pinJSON{}
		for _, p := range all {
			flags := p.Flags
			if flags == nil {
				flags = []string{}
			}
			out = append(out, pinJSON{Name: pinName(p), Server: p.Server, Tool: p.Tool, State: pinState(p), Hash: p.Hash, SeenHash: p.SeenHash,
				Pinned: p.Pinned, New: p.New, RenamedFrom: p.RenamedFrom, Flags: flags})
		}
		return printJSON(f.IO.Out, out)
	}
	t := newTable(f.IO.Out, "TOOL", "SERVER", "STATE", "PINNED", "HASH", "FLAGS")
	changed := 0
	for _, p := range all {
		st := pinState(p)
		if st != "pinned" && st != "new" {
			changed++
		}
		t.row(pinName(p), p.Server, st, p.Pinned.Local().Format(time.DateTime), short(p.Hash), strings.Join(p.Flags, "; "))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if changed > 0 {
		fmt.Fprintf(f.IO.Out, "\n%d changed since pinned: review with mcpgw tools pins diff TOOL, accept with mcpgw tools approve TOOL\n", changed)
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "-"
	}
	return h
}

func runPinsDiff(ctx context.Context, f *Factory, name string) error {
	db, all, err := openPinList(ctx, f)
	if err != nil {
		return err
	}
	defer db.Close()
	found := findPins(all, name)
	if len(found) == 0 {
		return withCode(ExitUsage, fmt.Errorf("no pin for %s (see the pins with: mcpgw tools pins list)", name))
	}
	p := found[0]
	if p.SeenHash == "" || p.SeenHash == p.Hash {
		fmt.Fprintf(f.IO.Out, "%s matches its pin (sha256 %s)\n", pinName(p), short(p.Hash))
		return nil
	}
	old := "pinned " + pinName(p)
	if p.RenamedFrom != "" && p.Hash == "" {
		old = "pinned " + p.RenamedFrom + " (the same definition, under another name)"
	}
	fmt.Fprint(f.IO.Out, pin.Diff(old, "current "+pinName(p), pin.Pretty(p.Def), pin.Pretty(p.SeenDef)))
	fmt.Fprintf(f.IO.Out, "accept it with: mcpgw tools approve %s\n", name)
	return nil
}

func runPinsApprove(ctx context.Context, f *Factory, name string) error {
	db, all, err := openPinList(ctx, f)
	if err != nil {
		return err
	}
	defer db.Close()
	targets := all
	if name != "" {
		if targets = findPins(all, name); len(targets) == 0 {
			return withCode(ExitUsage, fmt.Errorf("no pin for %s (see the pins with: mcpgw tools pins list)", name))
		}
	}
	n := 0
	for _, p := range targets {
		ok, err := db.ApprovePin(ctx, p.Server, p.Tool)
		if err != nil {
			return err
		}
		if ok {
			n++
			fmt.Fprintf(f.IO.Out, "approved %s (now pinned to sha256 %s)\n", pinName(p), short(p.SeenHash))
		}
	}
	if n == 0 {
		what := "no pin"
		if name != "" {
			what = name
		}
		fmt.Fprintf(f.IO.Out, "nothing to approve: %s differs from what was last seen\n", what)
	}
	return nil
}

// pinsFile is the file `pins export` writes and `pins import` reads.
type pinsFile struct {
	Version int         `json:"version"`
	Pins    []exportPin `json:"pins"`
}

type exportPin struct {
	Server     string          `json:"server"`
	Tool       string          `json:"tool"` // "" for the launch spec
	Exposed    string          `json:"exposed,omitempty"`
	Hash       string          `json:"sha256"`
	Definition json.RawMessage `json:"definition"`
}

func runPinsExport(ctx context.Context, f *Factory) error {
	db, all, err := openPinList(ctx, f)
	if err != nil {
		return err
	}
	defer db.Close()
	out := pinsFile{Version: 1, Pins: []exportPin{}}
	for _, p := range all {
		if p.Hash == "" {
			continue // nothing approved for it yet
		}
		out.Pins = append(out.Pins, exportPin{Server: p.Server, Tool: p.Tool, Exposed: p.Exposed, Hash: p.Hash, Definition: p.Def})
	}
	return printJSON(f.IO.Out, out)
}

func runPinsImport(ctx context.Context, f *Factory, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	var in pinsFile
	if err := json.Unmarshal(b, &in); err != nil {
		return withCode(ExitUsage, fmt.Errorf("%s: not a pins file (mcpgw tools pins export writes one): %w", file, err))
	}
	if in.Version != 1 {
		return withCode(ExitUsage, fmt.Errorf("%s: pins file version %d; this mcpgw reads version 1", file, in.Version))
	}
	// Every pin is checked before any is stored.
	rows := make([]logs.Pin, 0, len(in.Pins))
	for i, p := range in.Pins {
		if p.Server == "" {
			return withCode(ExitUsage, fmt.Errorf("%s: pin %d has no server", file, i+1))
		}
		var canon []byte
		var hash string
		if p.Tool == "" {
			var spec struct {
				Command   string   `json:"command"`
				Args      []string `json:"args"`
				Cwd       string   `json:"cwd"`
				URL       string   `json:"url"`
				Transport string   `json:"transport"`
			}
			if err := json.Unmarshal(p.Definition, &spec); err != nil {
				return withCode(ExitUsage, fmt.Errorf("%s: launch spec of %s: %w", file, p.Server, err))
			}
			canon, hash = pin.SpecHash(spec.Command, spec.Args, spec.Cwd, spec.URL, spec.Transport)
		} else if canon, hash, err = pin.Canonical(p.Definition); err != nil {
			return withCode(ExitUsage, fmt.Errorf("%s: pin of %s/%s: %w", file, p.Server, p.Tool, err))
		}
		if hash != p.Hash {
			return withCode(ExitUsage, fmt.Errorf("%s: pin of %s/%s: its sha256 does not match its definition (edited by hand?)", file, p.Server, p.Tool))
		}
		rows = append(rows, logs.Pin{Server: p.Server, Tool: p.Tool, Exposed: p.Exposed, Hash: hash, Def: canon, Pinned: time.Now()})
	}
	path, err := f.logsDBPath("")
	if err != nil {
		return err
	}
	db, err := logs.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, r := range rows {
		if err := db.PutPin(ctx, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "imported %d pin(s) from %s\n", len(rows), file)
	return nil
}
