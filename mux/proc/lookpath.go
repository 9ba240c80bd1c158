package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// LookCommand finds the program a stdio server's command names, exactly as
// starting the server would (see lookCommand): env is the server's
// configured env. A command with a path separator is checked to exist,
// relative to dir when it is relative.
func LookCommand(command string, env map[string]string, dir string) (string, error) {
	kv := make([]string, 0, len(env))
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	prog, _, err := lookCommand(command, kv)
	if err != nil {
		return "", err
	}
	if strings.ContainsRune(prog, '/') || strings.ContainsRune(prog, filepath.Separator) {
		p := prog
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("command %q: %w", command, err)
		}
	}
	return prog, nil
}

// lookCommand finds the program a server's command names. A name with a
// path separator is used as it is. A bare name is looked up in the PATH of
// the server's own env, else mcpgw's, else the login shell's: agents
// started from a desktop (Finder, the Dock, a launcher) do not get the PATH
// a terminal has, where nvm, Homebrew or asdf put npx and uvx. childPath
// is the PATH the child should get when only the login shell's found it,
// so that scripts such as npx find node the same way; "" means the child's
// PATH stays as it is.
func lookCommand(name string, env []string) (prog, childPath string, err error) {
	if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
		return name, "", nil // relative to the server's cwd: for exec to find
	}
	own, ownSet := envValue(env, "PATH")
	if ownSet {
		if p := findIn(name, own); p != "" {
			return p, "", nil
		}
		return "", "", fmt.Errorf("command %q not found in the PATH given in the server's env: (%s); write the full path in command:", name, own)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, "", nil
	} else if !errors.Is(err, exec.ErrNotFound) {
		return "", "", fmt.Errorf("command %q: %w", name, err)
	}
	tried := fmt.Sprintf("mcpgw's PATH (%s)", os.Getenv("PATH"))
	if shell, login, err := loginShellPath(); err != nil {
		tried += fmt.Sprintf(" (your login shell's PATH could not be read: %v)", err)
	} else if login != "" {
		if p := findIn(name, login); p != "" {
			return p, mergePath(os.Getenv("PATH"), login), nil
		}
		tried += fmt.Sprintf(" and your login shell's, %s (%s)", shell, login)
	}
	return "", "", fmt.Errorf("command %q not found: looked in %s; write the full path in command: (e.g. the output of `command -v %s` in a terminal), or set PATH in the server's env:", name, tried, name)
}

// envValue returns the last value of key in KEY=VALUE entries.
func envValue(env []string, key string) (string, bool) {
	v, ok := "", false
	for _, e := range env {
		if k, val, found := strings.Cut(e, "="); found && (k == key || runtime.GOOS == "windows" && strings.EqualFold(k, key)) {
			v, ok = val, true
		}
	}
	return v, ok
}

// findIn looks name up in the directories of pathList.
func findIn(name, pathList string) string {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if runtime.GOOS == "windows" {
			if lp, err := exec.LookPath(p); err == nil {
				return lp
			}
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// mergePath appends the directories of extra that first lacks.
func mergePath(first, extra string) string {
	have := map[string]bool{}
	dirs := filepath.SplitList(first)
	for _, d := range dirs {
		have[d] = true
	}
	for _, d := range filepath.SplitList(extra) {
		if d != "" && !have[d] {
			have[d] = true
			dirs = append(dirs, d)
		}
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

// loginShellPath reads the PATH an interactive login shell of the user's
// sets up, once per process (it runs the user's profile, which takes a
// moment). Windows has no such thing.
func loginShellPath() (shell, path string, err error) {
	r := loginShell()
	return r.shell, r.path, r.err
}

var loginShell = sync.OnceValue(func() (r struct {
	shell, path string
	err         error
}) {
	r.shell, r.path, r.err = readLoginShellPath(os.Getenv("SHELL"))
	return r
})

const pathMarker = "__mcpgw_path__"

func readLoginShellPath(shell string) (string, string, error) {
	if runtime.GOOS == "windows" {
		return "", "", nil
	}
	if shell == "" {
		shell = "/bin/sh"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Interactive too: nvm and friends set PATH in .bashrc/.zshrc. The
	// markers separate PATH from whatever the profile prints.
	cmd := exec.CommandContext(ctx, shell, "-ilc", `printf '`+pathMarker+`%s`+pathMarker+`' "$PATH"`)
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		if errors.Is(err, fs.ErrNotExist) {
			return shell, "", nil
		}
		return shell, "", err
	}
	_, rest, ok := strings.Cut(out.String(), pathMarker)
	path, _, ok2 := strings.Cut(rest, pathMarker)
	if !ok || !ok2 {
		return shell, "", fmt.Errorf("%s printed no PATH", shell)
	}
	return shell, path, nil
}
