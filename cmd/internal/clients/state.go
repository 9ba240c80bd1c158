package clients

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
)

// State is what mcpgw remembers of the agent files it installed into,
// kept in clients.json under mcpgw's state directory: the hash of what it
// wrote (to tell a file someone changed since) and where the backup of
// what was there before is.
type State struct {
	// Files maps an agent file's [File.Key] to what mcpgw wrote there.
	Files map[string]*Installed `json:"files"`

	dir string
}

// Installed is one agent file mcpgw wrote.
type Installed struct {
	Agent string `json:"agent"`
	Scope Scope  `json:"scope"`
	// SHA256 is the hash of the file as mcpgw wrote it.
	SHA256 string `json:"sha256"`
	// Servers is the hash of the servers value as mcpgw wrote it (see
	// [File.Servers]), for a file whose rest the agent owns
	// ([File.ServersOnly]).
	Servers string `json:"servers_sha256,omitempty"`
	// Backup is the copy of the file from before; "" when there was no
	// file (restore then removes it).
	Backup string    `json:"backup,omitempty"`
	At     time.Time `json:"at"`
}

// Hash is the hex SHA-256 of data.
func Hash(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Record is what mcpgw remembers of written, the file it wrote, whose
// earlier content is in backup ("" when there was no file).
func (f *File) Record(written []byte, backup string, now time.Time) *Installed {
	rec := &Installed{Agent: f.Agent.Name, Scope: f.Scope, SHA256: Hash(written), Backup: backup, At: now.UTC()}
	if f.ServersOnly() {
		if canon, found, err := f.Servers(written); err == nil && found {
			rec.Servers = Hash(canon)
		}
	}
	return rec
}

// Drifted reports whether data, the file now (exists is false when there
// is none), differs from what mcpgw wrote as rec records it: the whole
// file, or for a servers-only file ([File.ServersOnly]) its servers value,
// the rest being the agent's to change.
func (f *File) Drifted(rec *Installed, data []byte, exists bool) bool {
	if !exists {
		return true
	}
	if f.ServersOnly() && rec.Servers != "" {
		canon, found, err := f.Servers(data)
		return err != nil || !found || Hash(canon) != rec.Servers
	}
	return Hash(data) != rec.SHA256
}

// LoadState reads the state kept in dir (mcpgw's state directory); a
// missing file is an empty state.
func LoadState(dir string) (*State, error) {
	s := &State{Files: map[string]*Installed{}, dir: dir}
	data, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading mcpgw's record of agent files: %w", err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); move it aside to start afresh (backups stay in %s)", s.path(), err, s.backupDir())
	}
	if s.Files == nil {
		s.Files = map[string]*Installed{}
	}
	return s, nil
}

func (s *State) path() string      { return filepath.Join(s.dir, "clients.json") }
func (s *State) backupDir() string { return filepath.Join(s.dir, "backups") }

// Save writes the state atomically.
func (s *State) Save() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", s.dir, err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(s.path(), append(data, '\n'), 0o600)
}

// Backup copies data, agent a's file in scope, into a new timestamped file
// in the backups directory and returns its path. An existing backup is
// never overwritten.
func (s *State) Backup(a *Agent, scope Scope, path string, data []byte, now time.Time) (string, error) {
	dir := s.backupDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	base := fmt.Sprintf("%s-%s-%s-%s", a.Name, scope, now.UTC().Format("20060102T150405Z"), strings.TrimPrefix(filepath.Base(path), "."))
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		_, err = f.Write(data)
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		return p, nil
	}
}
