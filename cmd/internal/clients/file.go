package clients

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// File is one agent's configuration file in one scope, and where in it
// the agent keeps its servers.
type File struct {
	Agent *Agent
	Scope Scope
	Path  string
	// In is the chain of object members that holds the servers: the
	// agent's Key at the top of the file, or "projects", the project
	// directory, "mcpServers" for Claude Code's local scope.
	In []string
}

// File returns the agent's file in scope s.
func (a *Agent) File(l *Locator, s Scope) (*File, error) {
	p, err := a.Path(l, s)
	if err != nil {
		return nil, err
	}
	f := &File{Agent: a, Scope: s, Path: p, In: []string{a.Key}}
	if s == Local {
		f.In = []string{"projects", projectKey(l), a.Key}
	}
	return f, nil
}

// projectKey is the project directory as Claude Code names it in
// ~/.claude.json: its absolute path, with forward slashes on Windows
// (C:/Users/me/app; see github.com/PrefectHQ/fastmcp/issues/5094).
func projectKey(l *Locator) string {
	if l.GOOS == "windows" {
		// Not filepath.ToSlash: l.GOOS, not the build's, is the OS.
		return strings.ReplaceAll(l.Dir, `\`, "/")
	}
	return l.Dir
}

// Key identifies the file and place in mcpgw's record of what it wrote:
// the path, with a JSON pointer to the servers when they are not at the top
// (the user and local scopes of Claude Code share one file).
func (f *File) Key() string {
	if len(f.In) == 1 {
		return f.Path
	}
	return f.Path + "#" + pointer(f.In)
}

// Where says where in the file the servers are, for people: "" at the
// top, else as projects["/dir"].mcpServers.
func (f *File) Where() string {
	if len(f.In) == 1 {
		return ""
	}
	return memberPath(f.In)
}

// ServersOnly reports whether mcpgw owns only the servers value of the
// file, not the file: the agent rewrites the rest as it runs (Claude
// Code's ~/.claude.json), so drift and restore are about that value, and
// the rest of the file is left as the agent last wrote it.
func (f *File) ServersOnly() bool { return slices.Contains(f.Agent.selfWritten, f.Scope) }

// Read returns the servers in data, the file's content, in file order.
func (f *File) Read(data []byte) ([]*Server, error) {
	if f.Agent.Format == TOML {
		return f.Agent.readTOML(f.Path, data)
	}
	return f.Agent.readJSON(f.Path, data, f.In)
}

// Install returns data with its servers replaced by the one entry e and
// every other byte kept (see [Agent.Install]).
func (f *File) Install(data []byte, e Entry) ([]byte, error) {
	return f.Agent.install(f.Path, data, f.In, e)
}

// Servers returns the servers value in data in a canonical form (compact
// JSON, keys sorted), so that only a change to the servers themselves
// changes it, not the agent reformatting the file; found is false when the
// file has no servers value.
func (f *File) Servers(data []byte) (canon []byte, found bool, err error) {
	if f.Agent.Format == TOML {
		return nil, false, fmt.Errorf("%s: internal error: servers-only files are JSON", f.Path)
	}
	v, _, err := parseJSON(f.Path, data)
	if err != nil {
		return nil, false, err
	}
	sv := v.Find(pointer(f.In))
	if sv == nil {
		return nil, false, nil
	}
	var x any
	if err := json.Unmarshal(standard(*sv), &x); err != nil {
		return nil, false, fmt.Errorf("%s: reading its servers: %w", f.Path, err)
	}
	canon, err = json.Marshal(x)
	return canon, true, err
}

// PutServers returns cur, the file as it is now, with its servers value
// replaced by the one in backup (as backup has it, byte for byte), or
// removed when backup has none; the rest of cur stays as it is.
func (f *File) PutServers(cur, backup []byte) ([]byte, error) {
	bv, _, err := parseJSON(f.Path+" (backup)", backup)
	if err != nil {
		return nil, err
	}
	if sv := bv.Find(pointer(f.In)); sv != nil {
		raw := string(backup[sv.StartOffset:sv.EndOffset])
		return f.Agent.replaceJSON(f.Path, cur, f.In, func(string, string) string { return raw })
	}
	return removeJSON(f.Path, cur, f.In, func(in []string) bool { return bv.Find(pointer(in)) != nil })
}

// pointer is the JSON pointer (RFC 6901) of the member chain in.
func pointer(in []string) string {
	var b strings.Builder
	for _, k := range in {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
	}
	return b.String()
}
