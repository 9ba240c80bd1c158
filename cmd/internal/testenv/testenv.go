// Package testenv finds and builds what mcpgw's end-to-end tests run
// against: the mcpgw binary, the Go fixture servers, the npm reference
// servers and the TypeScript SDK client driver. Under CI=true a missing
// prerequisite fails the test; elsewhere the test skips with a message
// saying how to enable it.
package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Missing fails the test under CI=true and skips it otherwise.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("prerequisite missing under CI=true: %s (%s)", what, how)
	}
	t.Skipf("skipping: %s is not available; %s", what, how)
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Build builds a Go main package (an import path or a path relative to the
// repository root) once per test process and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	return build(t, pkg, false)
}

// Release builds mcpgw as .goreleaser.yaml does (no cgo, trimmed paths,
// no symbol table), never with -race: what benchmarks should measure.
func Release(t testing.TB) string {
	t.Helper()
	return build(t, "./cmd/mcpgw", true)
}

func build(t testing.TB, pkg string, release bool) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := pkg
	if release {
		key += " (release)"
	}
	if p, ok := built[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "mcpgw-testbin-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	args := []string{"build", "-o", out}
	if release {
		args = append(args, "-trimpath", "-ldflags=-s -w")
	} else if raceEnabled {
		args = append(args, "-race")
		// A -race binary sleeps a second at exit by default; the tests
		// start and stop many.
		if os.Getenv("GORACE") == "" {
			os.Setenv("GORACE", "atexit_sleep_ms=0")
		}
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = RepoRoot(t)
	if release {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[key] = out
	return out
}

// Mcpgw builds the mcpgw binary.
func Mcpgw(t testing.TB) string { return Build(t, "./cmd/mcpgw") }

// Fixture returns the Go fixture server (testdata/fixture): the binary
// .ci/run built ($MCPGW_FIXTURE_BIN), else one built now.
func Fixture(t testing.TB) string { return prebuilt(t, "MCPGW_FIXTURE_BIN", "./testdata/fixture") }

// ConformanceServer returns go-sdk's conformance fixture server
// ($MCPGW_EVERYTHING_SERVER_BIN, else built now).
func ConformanceServer(t testing.TB) string {
	return prebuilt(t, "MCPGW_EVERYTHING_SERVER_BIN", "github.com/modelcontextprotocol/go-sdk/conformance/everything-server")
}

func prebuilt(t testing.TB, env, pkg string) string {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return Build(t, pkg)
}

// NpmBin returns the path of an npm package's executable installed from
// testdata/npm (by .ci/run, or `npm ci --prefix testdata/npm`).
func NpmBin(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("MCPGW_NPM_BIN")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "testdata", "npm", "node_modules", ".bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "npm package binary "+name, "run: npm ci --prefix testdata/npm")
	}
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node", "install Node.js 20 or later")
	}
	return p
}

// PrivateState points the state directory (where mcpgw keeps its record)
// of this test process, and of every mcpgw it starts, at a fresh temporary
// directory, and forgets any MCPGW_DB of the caller's, so tests never write
// the user's own record. Call it from TestMain; it returns the cleanup,
// which also removes the binaries the process built.
func PrivateState(prefix string) func() {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	os.Unsetenv("MCPGW_DB")
	return func() {
		os.RemoveAll(dir)
		removeBuilt()
	}
}

// removeBuilt removes the binaries [Build] made in this process: tens of
// megabytes a run, which would otherwise pile up in the temporary
// directory run after run.
func removeBuilt() {
	buildMu.Lock()
	defer buildMu.Unlock()
	for k, p := range built {
		os.RemoveAll(filepath.Dir(p))
		delete(built, k)
	}
}

// TSClient is the driver of the official TypeScript MCP SDK clients
// (testdata/tsclient): run Node on Driver with the environment Env.
type TSClient struct {
	Node   string // node executable (20 or later)
	Driver string // testdata/tsclient/driver.mjs
	Tap    string // testdata/tsclient/tap.mjs
	// Package and Version name the SDK package the driver loads for the
	// requested --sdk.
	Package, Version string
	// Env points the driver at the npm packages (MCPGW_NPM_MODULES).
	Env []string
}

// tsSDKPackages are the npm packages behind the driver's --sdk values.
var tsSDKPackages = map[string]string{
	"v1": "@modelcontextprotocol/sdk",
	"v2": "@modelcontextprotocol/client",
}

// TSClientDriver returns the TypeScript client driver for sdk ("v1": the
// @modelcontextprotocol/sdk package, "v2": @modelcontextprotocol/client),
// installed from testdata/npm like the npm servers: it skips outside CI and
// fails under CI=true when node (20 or later) or the package is missing.
func TSClientDriver(t testing.TB, sdk string) TSClient {
	t.Helper()
	pkg, ok := tsSDKPackages[sdk]
	if !ok {
		t.Fatalf("unknown TypeScript SDK %q", sdk)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node", "install Node.js 20 or later")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		Missing(t, "a working node", err.Error())
	}
	var major int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "v%d.", &major); err != nil || major < 20 {
		Missing(t, "Node.js 20 or later", "found "+strings.TrimSpace(string(out)))
	}
	modules := filepath.Join(RepoRoot(t), "testdata", "npm", "node_modules")
	if dir := os.Getenv("MCPGW_NPM_BIN"); dir != "" {
		modules = filepath.Dir(dir)
	}
	manifest, err := os.ReadFile(filepath.Join(modules, filepath.FromSlash(pkg), "package.json"))
	if err != nil {
		Missing(t, "npm package "+pkg, "run: npm ci --prefix testdata/npm")
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(manifest, &meta); err != nil {
		t.Fatalf("%s/package.json: %v", pkg, err)
	}
	dir := filepath.Join(RepoRoot(t), "testdata", "tsclient")
	return TSClient{
		Node:    node,
		Driver:  filepath.Join(dir, "driver.mjs"),
		Tap:     filepath.Join(dir, "tap.mjs"),
		Package: pkg,
		Version: meta.Version,
		Env:     []string{"MCPGW_NPM_MODULES=" + modules},
	}
}
