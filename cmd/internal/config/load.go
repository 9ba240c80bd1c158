package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// createHint tells a user how to get a configuration file.
const createHint = "create it by adding a server with `mcpgw server add NAME -- CMD ARGS`, or use another file with --config PATH"

// DefaultPath returns the default configuration file,
// mcpgw/config.yaml under the user's configuration directory
// (os.UserConfigDir).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot locate the user configuration directory (%w); pass the file with --config PATH", err)
	}
	return filepath.Join(dir, "mcpgw", "config.yaml"), nil
}

// Load reads, expands, decodes and validates the configuration file at path.
// A missing file is an error that wraps fs.ErrNotExist and says how to
// create one. Problems in the file are reported as an *Error.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse decodes and validates configuration data read from path (used only
// in messages). ${NAME} references in values are replaced from the
// environment; ${secret:NAME} references are kept for the keystore. An empty
// document, or one without servers:, is a valid configuration with no
// servers. Problems are reported as an *Error naming the file, line and key.
func Parse(path string, data []byte) (*Config, error) {
	return parse(path, data, true)
}

// LoadAsWritten loads the file like [Load] but expands no ${VAR}: values
// are kept as written, so listing servers neither needs the variables set
// nor prints what they hold.
func LoadAsWritten(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := parseDocument(path, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: path, lookup: func(string) (string, bool) { return "", false }, strict: false}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	return d.config(root)
}

// LoadSections reads the file like [Load] but decodes only the top-level
// keys named (such as "logs" or "secrets"), for commands that use those
// alone: a problem elsewhere in the file, a typo in a server's keys, does
// not stop them. The result has no servers. A file that does not parse as
// YAML, or a problem in the sections named, is still an error.
func LoadSections(path string, keys ...string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := parseDocument(path, data)
	if err != nil {
		return nil, err
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if m := deref(root); m != nil && m.Kind == yaml.MappingNode {
		part := &yaml.Node{Kind: yaml.MappingNode, Line: m.Line, Column: m.Column}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if slices.Contains(keys, m.Content[i].Value) {
				part.Content = append(part.Content, m.Content[i], m.Content[i+1])
			}
		}
		root = part
	}
	d := &decoder{file: path, lookup: os.LookupEnv, strict: true}
	return d.config(root)
}

// parse is Parse with a choice of what an unset ${VAR} is: an error when
// strict, kept as written otherwise (for validating edits).
func parse(path string, data []byte, strict bool) (*Config, error) {
	doc, err := parseDocument(path, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: path, lookup: os.LookupEnv, strict: strict}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	return d.config(root)
}

// readFile reads a configuration file, explaining a missing or unreadable one.
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{File: path, Msg: "config file does not exist; " + createHint, Err: err}
	case err != nil:
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config file: %v; check that it is a readable file, or use another file with --config PATH", unwrapPathError(err)), Err: err}
	}
	return data, nil
}

// unwrapPathError drops the operation and path from an *fs.PathError, which
// the message already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// yamlLineRE extracts the line from yaml.v3's syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data into a YAML document node, turning syntax
// errors into an *Error with the file and line. It rejects more than one
// document in a file.
func parseDocument(path string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(path, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: path, Line: extra.Line, Msg: "found a second YAML document (after ---); keep the whole configuration in one document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(path, data, err)
	}
	return &doc, nil
}

// syntaxError converts a yaml.v3 parse error to an *Error.
func syntaxError(path string, data []byte, err error) error {
	e := &Error{File: path, Err: err}
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		e.Msg = "invalid YAML: " + err.Error()
		return e
	}
	e.Line, _ = strconv.Atoi(m[1])
	if l := firstFailingLine(data, m[2]); l > 0 {
		e.Line = l
	}
	e.Msg = "invalid YAML: " + m[2] + " (check the indentation and quoting on this line or just above it; indent with spaces, not tabs)"
	return e
}

// firstFailingLine returns the first line at which the file, read up to
// that line, fails to parse with the same problem as the whole file, or 0.
// yaml.v3 often reports where the enclosing block started rather than where
// the problem is.
func firstFailingLine(data []byte, problem string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	end := 0
	for i, l := range lines {
		end += len(l)
		var n yaml.Node
		err := yaml.Unmarshal(data[:end], &n)
		if err == nil {
			continue
		}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil && m[2] == problem {
			return i + 1
		}
		return 0
	}
	return 0
}
