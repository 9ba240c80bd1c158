package config

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/approval"
)

// Managed is a managed policy: the file an administrator places at a fixed
// path (see [ManagedPolicyPath]), which outranks the user's configuration.
// Its top level is a policy: default, teams, roles, rules, and members,
// which give users their team and roles.
type Managed struct {
	// Path is the file it was read from.
	Path   string
	Policy policy.Policy
	// Engine is Policy compiled with policy.CompileManaged.
	Engine *policy.Engine
	// Lines locates its parts by rule id (managed.teams.web ...).
	Lines map[string]int
	// Approval is its approval: section. Its channel, when set, is the
	// channel (out-of-band keeps an agent's own client from answering);
	// its rules hold calls besides the user's.
	Approval approval.Config
}

// ManagedPolicyPath is where an administrator puts the managed policy on
// this OS: /etc/mcpgw/policy.yaml, /Library/Application
// Support/mcpgw/policy.yaml on macOS, %ProgramData%\mcpgw\policy.yaml on
// Windows.
func ManagedPolicyPath() string {
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(cmp.Or(os.Getenv("ProgramData"), `C:\ProgramData`), "mcpgw", "policy.yaml")
	case "darwin":
		return "/Library/Application Support/mcpgw/policy.yaml"
	}
	return "/etc/mcpgw/policy.yaml"
}

// LoadManaged reads, decodes and compiles the managed policy at path. A
// file that does not exist is no policy: (nil, nil). ${VAR} references
// are not expanded: the user's environment has no say in it. Problems are
// an *Error naming the file, line and key, as for the configuration.
func LoadManaged(path string) (*Managed, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, &Error{File: path, Msg: "cannot read the managed policy: " + unwrapPathError(err).Error() + "; ask your administrator (mcpgw refuses to run without the policy it cannot read)", Err: err}
	}
	doc, err := parseDocument(path, data)
	if err != nil {
		return nil, err
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	d := &decoder{file: path, lookup: func(string) (string, bool) { return "", false }, strict: false}
	m := &Managed{Path: path}
	if !isNull(root) {
		if err := takeApproval(d, root, &m.Approval); err != nil {
			return nil, err
		}
		if _, err := policyTable.decode(d, root, "", &m.Policy); err != nil {
			return nil, err
		}
	}
	where := func(id string) place {
		return locate(root, "", strings.TrimPrefix(id, "managed."))
	}
	if m.Engine, err = policy.CompileManaged(m.Policy); err != nil {
		return nil, d.policyError(err, where)
	}
	m.Lines = partLines(m.Policy, "managed.", where)
	return m, nil
}

// takeApproval decodes a managed policy's approval: key into cfg, and
// takes it out of root, whose other keys are the policy. Its rules are
// named managed.approval.rules[i].
func takeApproval(d *decoder, root *yaml.Node, cfg *approval.Config) error {
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "approval" {
			continue
		}
		if _, err := approvalTable.decode(d, root.Content[i+1], "approval", cfg); err != nil {
			return err
		}
		for j := range cfg.Rules {
			cfg.Rules[j].ID = "managed." + cfg.Rules[j].ID
		}
		root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
		return nil
	}
	return nil
}
