package clients

import (
	"fmt"
	"strings"
)

// EntryName is the name of mcpgw's entry in an agent's file.
const EntryName = "mcpgw"

// Entry is mcpgw's own server entry: what the agent runs.
type Entry struct {
	// Command is the absolute path of the mcpgw binary.
	Command string
	Args    []string
}

// NewEntry is the entry that runs `mcpgw serve --profile PROFILE` from
// binary, with --config when the configuration file is not the default.
func NewEntry(binary, profile, config string) Entry {
	args := []string{"serve", "--profile", profile}
	if config != "" {
		args = append(args, "--config", config)
	}
	return Entry{Command: binary, Args: args}
}

// Read returns the servers at the top of data, the agent's file at path
// (used in messages), in file order. Empty data has none.
func (a *Agent) Read(path string, data []byte) ([]*Server, error) {
	return (&File{Agent: a, Path: path, In: []string{a.Key}}).Read(data)
}

// fields is e in the agent's shape.
func (a *Agent) fields(e Entry) []field {
	var f []field
	if a.typed {
		f = append(f, field{"type", "stdio"})
	}
	if a.Name == "zed" {
		f = append(f, field{"source", "custom"})
	}
	return append(f, field{"command", e.Command}, field{"args", e.Args})
}

// tomlBlock is e as a Codex table.
func (a *Agent) tomlBlock(e Entry) string {
	return fmt.Sprintf("[%s.%s]\ncommand = %s\nargs = %s\n", a.Key, EntryName, tomlString(e.Command), tomlList(e.Args))
}

// Install returns data, the agent's file at path, with all its servers
// (at the top of the file) replaced by the one entry e and every other
// byte kept.
func (a *Agent) Install(path string, data []byte, e Entry) ([]byte, error) {
	return a.install(path, data, []string{a.Key}, e)
}

// install replaces the servers at the member chain in (see [File.In]).
// The result is read back to check it holds exactly the entry e.
func (a *Agent) install(path string, data []byte, in []string, e Entry) ([]byte, error) {
	var out []byte
	var err error
	if a.Format == TOML {
		out, err = a.replaceTOML(path, data, a.tomlBlock(e))
	} else {
		out, err = a.replaceJSON(path, data, in, func(indent, unit string) string {
			return writeObject([]field{{EntryName, a.fields(e)}}, indent, unit)
		})
	}
	if err != nil {
		return nil, err
	}
	got, err := (&File{Agent: a, Path: path, In: in}).Read(out)
	if err != nil || len(got) != 1 || got[0].Name != EntryName || got[0].Command != e.Command || strings.Join(got[0].Args, "\x00") != strings.Join(e.Args, "\x00") {
		return nil, fmt.Errorf("cannot edit %s safely (the edited file does not read back as one mcpgw entry: %v); add the entry by hand from: mcpgw client print %s", path, err, a.Name)
	}
	return out, nil
}

// Snippet is what to put in the agent's file for manual setup: a whole
// file with the one entry e.
func (a *Agent) Snippet(e Entry) string {
	if a.Format == TOML {
		return a.tomlBlock(e)
	}
	return "{\n  " + quote(a.Key) + ": " + writeObject([]field{{EntryName, a.fields(e)}}, "  ", "  ") + "\n}\n"
}
