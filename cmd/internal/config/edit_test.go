package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// editBase is already in the encoder's layout, so an add followed by a
// remove must give it back byte for byte.
const editBase = `# mcpgw config
# second line

servers:
  # the everything server
  everything:
    command: npx # runs node
    args: ["-y", "@modelcontextprotocol/server-everything"]
    env:
      API_KEY: ${API_KEY}
  # remote one
  remote:
    url: https://example.com/mcp
    headers:
      Authorization: Bearer ${secret:remote}
# footer comment
`

const editAdded = `# mcpgw config
# second line

servers:
  # the everything server
  everything:
    command: npx # runs node
    args: ["-y", "@modelcontextprotocol/server-everything"]
    env:
      API_KEY: ${API_KEY}
  # remote one
  remote:
    url: https://example.com/mcp
    headers:
      Authorization: Bearer ${secret:remote}
  git:
    command: uvx
    args: [mcp-server-git, --repo, '${MCPGW_TEST_UNSET_DIR}/src', "8080"]
    env:
      A: ${MCPGW_TEST_UNSET_TOKEN}
      B: "2"
    prefix: ""
    enabled: false
    start: lazy
    tools:
      deny: [delete_*]
    timeouts:
      call: 1m30s
# footer comment
`

func gitServer() *Server {
	f, empty := false, ""
	return &Server{
		Name:     "git",
		Command:  "uvx",
		Args:     []string{"mcp-server-git", "--repo", "${MCPGW_TEST_UNSET_DIR}/src", "8080"},
		Env:      map[string]string{"B": "2", "A": "${MCPGW_TEST_UNSET_TOKEN}"},
		Prefix:   &empty,
		Enabled:  &f,
		Start:    "lazy",
		Tools:    ToolFilter{Deny: []string{"delete_*"}},
		Timeouts: Timeouts{Call: 90 * time.Second},
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAddRemoveRoundTrip(t *testing.T) {
	t.Setenv("API_KEY", "x")
	path := writeTemp(t, editBase)

	if err := AddServer(path, gitServer()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(editAdded, readString(t, path)); diff != "" {
		t.Errorf("after AddServer (-want +got):\n%s", diff)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("mode after edit = %v, %v; want 0640 kept", fi.Mode(), err)
		}
	}
	// The added server reads back as it was given (but for the line it
	// was found on).
	c, err := parse(path, []byte(editAdded), false)
	if err != nil {
		t.Fatal(err)
	}
	want := gitServer()
	if diff := cmp.Diff(want, c.Servers["git"], cmpopts.IgnoreFields(Server{}, "Line"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}

	if err := RemoveServer(path, "git"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(editBase, readString(t, path)); diff != "" {
		t.Errorf("after RemoveServer (-want +got):\n%s", diff)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestAddServerCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "config.yaml")
	if err := AddServer(path, &Server{Name: "remote", URL: "https://example.com/mcp", Headers: map[string]string{"X-Api-Key": "${secret:k}"}}); err != nil {
		t.Fatal(err)
	}
	want := "servers:\n  remote:\n    url: https://example.com/mcp\n    headers:\n      X-Api-Key: ${secret:k}\n"
	if diff := cmp.Diff(want, readString(t, path)); diff != "" {
		t.Errorf("created file (-want +got):\n%s", diff)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		di, _ := os.Stat(filepath.Dir(path))
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
			t.Errorf("modes: file %v, dir %v; want 0600 and 0700", fi.Mode(), di.Mode())
		}
	}
	if _, err := Load(path); err != nil {
		t.Errorf("created file does not load: %v", err)
	}
}

func TestAddServerToEmptyFiles(t *testing.T) {
	for _, src := range []string{"", "# just a comment\n", "servers:\n", "servers: {}\n", "servers: # none yet\n"} {
		path := writeTemp(t, src)
		if err := AddServer(path, &Server{Name: "a", Command: "echo"}); err != nil {
			t.Errorf("AddServer to %q: %v", src, err)
			continue
		}
		got := readString(t, path)
		c, err := Load(path)
		if err != nil || len(c.Order) != 1 || c.Servers["a"].Command != "echo" {
			t.Errorf("AddServer to %q gave %q (%v)", src, got, err)
		}
		if strings.HasPrefix(src, "#") && !strings.HasPrefix(got, src) {
			t.Errorf("AddServer to %q lost the comment: %q", src, got)
		}
	}
}

func TestAddServerDuplicate(t *testing.T) {
	path := writeTemp(t, editBase)
	err := AddServer(path, &Server{Name: "remote", Command: "x"})
	want := `server "remote" already exists in ` + path + " (line 12); remove it first with `mcpgw server remove remote`"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	if got := readString(t, path); got != editBase {
		t.Errorf("file changed after a refused add:\n%s", got)
	}
}

func TestAddServerInvalid(t *testing.T) {
	path := writeTemp(t, editBase)
	tests := []struct {
		s    *Server
		want string
	}{
		{&Server{Name: "bad name", Command: "x"}, `cannot add server: bad server name "bad name"`},
		{&Server{Name: "a"}, `cannot add server "a": servers.a: has neither command nor url`},
		{&Server{Name: "a", Command: "x", URL: "https://e.com"}, `cannot add server "a": servers.a: has both command and url`},
		{&Server{Name: "a", URL: "https://e.com", Transport: "grpc"}, `cannot add server "a": servers.a.transport: unknown transport "grpc"`},
		{&Server{Name: "a", Command: "x", Tools: ToolFilter{Allow: []string{"[x"}}}, `cannot add server "a": servers.a.tools.allow[0]: bad glob`},
	}
	for _, tt := range tests {
		err := AddServer(path, tt.s)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("AddServer(%+v) = %v, want %s…", tt.s, err, tt.want)
		}
	}
	if got := readString(t, path); got != editBase {
		t.Errorf("file changed after refused adds:\n%s", got)
	}
}

func TestEditRefusesBrokenFile(t *testing.T) {
	src := "servers:\n  a:\n    comand: x\n"
	path := writeTemp(t, src)
	err := AddServer(path, &Server{Name: "b", Command: "y"})
	if err == nil || !strings.Contains(err.Error(), path+`:3: servers.a: unknown key "comand"`) {
		t.Errorf("error = %v", err)
	}
	if got := readString(t, path); got != src {
		t.Errorf("broken file was changed:\n%s", got)
	}
}

func TestRemoveServerUnknown(t *testing.T) {
	path := writeTemp(t, editBase)
	err := RemoveServer(path, "remot")
	want := `no server "remot" in ` + path + `; known servers: everything, remote (did you mean "remote"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	if got := readString(t, path); got != editBase {
		t.Errorf("file changed after a refused remove:\n%s", got)
	}
}

func TestRemoveServerMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := RemoveServer(path, "a")
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("error = %v", err)
	}
	if _, statErr := os.Stat(path); statErr == nil {
		t.Error("RemoveServer created the file")
	}
}

func TestSetEnabled(t *testing.T) {
	path := writeTemp(t, "servers:\n  a:\n    command: x # cmd\n    start: lazy\n  b:\n    url: https://e.com/mcp\n    enabled: false # off for now\n")
	if err := SetEnabled(path, "a", false); err != nil {
		t.Fatal(err)
	}
	if err := SetEnabled(path, "b", true); err != nil {
		t.Fatal(err)
	}
	want := "servers:\n  a:\n    command: x # cmd\n    enabled: false\n    start: lazy\n  b:\n    url: https://e.com/mcp\n    enabled: true # off for now\n"
	if diff := cmp.Diff(want, readString(t, path)); diff != "" {
		t.Errorf("after SetEnabled (-want +got):\n%s", diff)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Servers["a"].IsEnabled() || !c.Servers["b"].IsEnabled() {
		t.Error("enabled flags not applied")
	}
	if err := SetEnabled(path, "zzz", true); err == nil || !strings.Contains(err.Error(), "known servers: a, b") {
		t.Errorf("unknown server error = %v", err)
	}
}

func TestSetEnabledNoChangeDoesNotWrite(t *testing.T) {
	src := "servers:\n  a:\n    command: x\n\n\n"
	path := writeTemp(t, src)
	if err := SetEnabled(path, "a", true); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != src {
		t.Errorf("file rewritten though nothing changed: %q", got)
	}
}
