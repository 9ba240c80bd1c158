package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// ErrChanged is returned by [Replace] when the file is no longer what the
// edit started from.
var ErrChanged = errors.New("the file changed since the edit began")

// Check validates data as the configuration file at path (named in
// messages, and the base of relative paths) without reading or writing
// anything; ${VAR} references are kept as written, as for every edit.
func Check(path string, data []byte) error {
	_, err := parse(path, data, false)
	return err
}

// Replace writes data as the file at path, atomically, if it validates and
// the file still holds was (nil: did not exist): an edit made while
// another process wrote the file is refused with [ErrChanged] rather than
// undo that write. A new file and its directory are made private.
func Replace(path string, was, data []byte) error {
	if err := Check(path, data); err != nil {
		return err
	}
	now, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if was != nil {
			return fmt.Errorf("%s: %w (it was removed)", path, ErrChanged)
		}
	case err != nil:
		return fmt.Errorf("cannot read %s: %w", path, err)
	case was == nil || !bytes.Equal(now, was):
		return fmt.Errorf("%s: %w", path, ErrChanged)
	}
	if err := os.MkdirAll(filepath.Dir(path), newDirMode); err != nil {
		return fmt.Errorf("cannot create the directory for %s: %w", path, err)
	}
	return writeFileAtomic(path, data, newFileMode)
}

// ServerLine returns the line of server name's key in configuration data,
// 0 when data has no such server (or does not parse).
func ServerLine(data []byte, name string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	root := deref(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		return 0
	}
	i := findKey(root, "servers")
	if i < 0 {
		return 0
	}
	servers := deref(root.Content[i+1])
	if servers == nil || servers.Kind != yaml.MappingNode {
		return 0
	}
	if j := findKey(servers, name); j >= 0 {
		return servers.Content[j].Line
	}
	return 0
}
