package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpgw/mcpgw/cmd/internal/clients"
)

// doctorAgents reports every agent configuration file that exists or that
// mcpgw installed into: whether the agent runs mcpgw, whether the file
// drifted since `mcpgw client install` wrote it, and servers still
// configured beside mcpgw (the agent runs those itself, outside policy,
// guardrails and the record). Only an entry the agent cannot run fails
// doctor: its mcpgw binary is gone, or it names a profile the
// configuration does not have. An agent that does not use mcpgw is not a
// fault; it is listed so the report shows where mcpgw is and is not.
func doctorAgents(_ context.Context, d *doctorRun) {
	l, err := clientLocator()
	if err == nil {
		var st *clients.State
		if st, err = loadClientState(); err == nil {
			for _, a := range clients.Agents {
				for _, sc := range a.Scopes {
					if c, ok := doctorAgent(d, l, st, a, sc); ok {
						d.report.add(c)
					}
				}
			}
			return
		}
	}
	d.report.add(doctorCheck{Check: "agents", Status: checkWarn, Detail: "cannot check agents' configuration files: " + err.Error()})
}

// doctorAgent checks one agent file; ok is false when there is nothing to
// report (no file, and mcpgw never wrote one there).
func doctorAgent(d *doctorRun, l *clients.Locator, st *clients.State, a *clients.Agent, sc clients.Scope) (doctorCheck, bool) {
	name := fmt.Sprintf("agent %s (%s)", a.Name, sc)
	f, err := a.File(l, sc)
	if err != nil {
		return doctorCheck{}, false
	}
	path, rec := where(f), st.Files[f.Key()]
	data, exists, err := readAgentFile(f.Path)
	switch {
	case err != nil:
		return doctorCheck{Check: name, Status: checkWarn, Detail: err.Error()}, true
	case !exists && rec == nil:
		return doctorCheck{}, false
	case !exists:
		return doctorCheck{Check: name, Status: checkWarn, Detail: path + " was removed since mcpgw installed itself there",
			Fix: fmt.Sprintf("mcpgw client install %s --scope %s (or mcpgw client restore %s --scope %s --force to put the original back)", a.Name, sc, a.Name, sc)}, true
	}
	servers, err := f.Read(data)
	if err != nil {
		return doctorCheck{Check: name, Status: checkWarn, Detail: err.Error(), Fix: "fix the file's syntax in the agent, or restore it: mcpgw client restore " + a.Name + " --scope " + string(sc)}, true
	}
	if len(servers) == 0 && rec == nil && f.Where() != "" {
		// Claude Code's local scope of a project without servers of its
		// own: ~/.claude.json is the user scope's file.
		return doctorCheck{}, false
	}
	var gw *clients.Server
	var beside []string
	for _, s := range servers {
		switch {
		case s.IsMcpgw() && gw == nil:
			gw = s
		case !s.Disabled:
			beside = append(beside, s.Name)
		}
	}
	install := fmt.Sprintf("mcpgw client install %s --scope %s", a.Name, sc)
	if gw == nil {
		if rec != nil {
			return doctorCheck{Check: name, Status: checkWarn, Detail: path + " no longer runs mcpgw: its entry was removed or changed since mcpgw installed it",
				Fix: install + " (imports what is there now and runs mcpgw again)"}, true
		}
		if len(beside) == 0 {
			return doctorCheck{Check: name, Status: checkOK, Detail: path + ": no servers"}, true
		}
		return doctorCheck{Check: name, Status: checkOK, Detail: fmt.Sprintf("%s: does not use mcpgw; %d server(s) run directly: %s (to route them through mcpgw: %s)",
			path, len(beside), strings.Join(beside, ", "), install)}, true
	}
	if problem := unrunnable(d, gw); problem != "" {
		return doctorCheck{Check: name, Status: checkFail, Detail: path + ": the agent cannot start mcpgw: " + problem,
			Fix: install + " (writes the entry again for this mcpgw)", code: ExitConfig}, true
	}
	detail := path + ": runs mcpgw"
	if p := argAfter(gw.Args, "--profile"); p != "" {
		detail += " (profile " + p + ")"
	}
	if rec != nil && f.Drifted(rec, data, true) {
		detail += "; the file was edited since mcpgw wrote it"
	}
	if len(beside) > 0 {
		return doctorCheck{Check: name, Status: checkWarn,
			Detail: fmt.Sprintf("%s; %d server(s) still configured beside it, which the agent runs itself, outside mcpgw's policy, guardrails and record: %s", detail, len(beside), strings.Join(beside, ", ")),
			Fix:    install + " (imports them into mcpgw and leaves only mcpgw in the file)"}, true
	}
	return doctorCheck{Check: name, Status: checkOK, Detail: detail}, true
}

// unrunnable says why an agent's mcpgw entry would not start, or "".
func unrunnable(d *doctorRun, gw *clients.Server) string {
	if filepath.IsAbs(gw.Command) {
		if _, err := os.Stat(gw.Command); err != nil {
			return fmt.Sprintf("%s is not there (%v)", gw.Command, err)
		}
	} else if _, err := exec.LookPath(gw.Command); err != nil {
		return fmt.Sprintf("%s is not on PATH", gw.Command)
	}
	profile := argAfter(gw.Args, "--profile")
	if profile == "" || d.cfg == nil {
		return ""
	}
	// Only the configuration doctor read can say which profiles exist.
	if c := argAfter(gw.Args, "--config"); c != "" && c != d.cfg.Path {
		return ""
	}
	if !d.cfg.HasProfile(profile) {
		return fmt.Sprintf("it runs profile %q, which %s does not define", profile, d.cfg.Path)
	}
	return ""
}

// argAfter is the value of flag in args, given as "flag value" or
// "flag=value"; "" when absent.
func argAfter(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}
