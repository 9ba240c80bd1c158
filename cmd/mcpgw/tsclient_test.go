package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// The TypeScript client comparison: mcpgw tried with clients nobody on the
// team wrote. testdata/tsclient/driver.mjs drives the official TypeScript
// MCP SDK client through a scenario and prints what the client observed; each
// scenario runs twice, against server-everything directly and against the
// same server behind `mcpgw serve`, and every section of the two transcripts
// is compared in a subtest of its own:
//
//	TestTSClient/FRONT/VERSION/SCENARIO/SECTION     @modelcontextprotocol/sdk 1.x
//	TestTSClientV2/FRONT/VERSION/SCENARIO/SECTION   @modelcontextprotocol/client 2.x
//
// FRONT "stdio": the driver spawns server-everything (stdio), or `mcpgw
// serve`. FRONT "http": server-everything's own streamable HTTP mode, or
// `mcpgw serve --http`. mcpgw always runs server-everything over stdio,
// through testdata/tsclient/tap.mjs, whose log is the transcript's serverSaw:
// what the server received (directly, that is what the client sent).
//
// VERSION is the protocol version the client asks for. SDK 1.x can only offer
// 2025-11-25; SDK 2.x offers 2025-03-26, 2025-06-18, 2025-11-25 (initialize)
// and 2026-07-28 (server/discover, falling back to initialize). server-
// everything speaks 2025 only, so in the 2026-07-28 column the direct
// transcript is the same client's fallback to 2025-11-25: what the agent
// would see without mcpgw.
//
// Normalized before comparing (what must differ between a server and mcpgw
// in front of it): the "everything__" prefix mcpgw gives tool and prompt
// names; serverInfo (not compared); mcpgw's naming of a server's log
// messages (logger "everything", or "everything/LOGGER"); session ids, task
// ids and clock times in texts; the level and text of server-everything's
// random simulated log messages; and, for a 2026-07-28 connection, the
// result envelope of that version (resultType, ttlMs, cacheScope, the
// serverInfo _meta key), which the driver strips from section values.
//
// Where the direct connection fell back to 2025-11-25 and the one through
// mcpgw speaks 2026-07-28, sections of behaviour 2026-07-28 does not have
// (server-initiated requests and notifications outside a call,
// logging/setLevel, roots list_changed, logging without a per-request level)
// are listed by the driver as not applicable and skip, saying so.
//
// Sections named fields.* hold JSON text in the order the client received it
// and compare byte for byte (after the normalizations above).
//
// MCPGW_TSCLIENT_KEEP=DIR keeps every transcript in DIR as
// SDK-FRONT-VERSION-SCENARIO-{direct,via-mcpgw}.json, with the tap's log
// (-server-saw.jsonl) and the processes' stderr (-stderr.txt).
//
// The scenario pairs of both tests run concurrently (MCPGW_TSCLIENT_JOBS at a
// time in all, default max(2, GOMAXPROCS)) before the subtests report them; each
// driver stops itself after 40 s and is killed after 60 (nominally a pair
// takes 2 to 10 s; the margin is for loaded machines).

var tsScenarios = []string{"basic", "roots", "cancel", "progress", "logging", "unknown-tool", "tasks", "fields"}

// tsVersions are the protocol versions each SDK can be asked for.
var tsVersions = map[string][]string{
	"v1": {"2025-11-25"},
	"v2": {"2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"},
}

// tsServerVersions are the versions server-everything 2026.8.31 speaks.
var tsServerVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"}

const (
	tsPrefix        = "everything__"
	tsDriverTimeout = 40 * time.Second
	tsPairTimeout   = 60 * time.Second
)

// TestTSClient compares what the official TypeScript SDK client 1.x
// (@modelcontextprotocol/sdk) sees of server-everything directly and through
// mcpgw, scenario by scenario.
func TestTSClient(t *testing.T) { testTSClient(t, "v1") }

// TestTSClientV2 is TestTSClient with the 2.x client
// (@modelcontextprotocol/client), at every protocol version it offers.
func TestTSClientV2(t *testing.T) { testTSClient(t, "v2") }

type tsTranscript struct {
	Meta     map[string]any `json:"meta"`
	Sections []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	} `json:"sections"`
	NotApplicable []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"notApplicable"`
	Info      map[string]json.RawMessage `json:"info"`
	Raw       []json.RawMessage          `json:"raw"`
	HTTP      []json.RawMessage          `json:"http"`
	ServerSaw []json.RawMessage          `json:"serverSaw"`
	Errors    []json.RawMessage          `json:"errors"`
}

// notApplicable says why a section has no counterpart on this connection's
// protocol version, or "".
func (tr *tsTranscript) notApplicable(name string) string {
	for _, n := range tr.NotApplicable {
		if n.Name == name {
			return n.Reason
		}
	}
	return ""
}

func (tr *tsTranscript) section(name string) (json.RawMessage, bool) {
	for _, s := range tr.Sections {
		if s.Name == name {
			return s.Value, true
		}
	}
	return nil, false
}

type tsCase struct{ front, version, scenario string }

type tsPair struct {
	direct, via *tsTranscript
	err         error
	log         testenv.SyncBuffer // every process's stderr, prefixed
	took        time.Duration
	done        chan struct{}
}

// prefixed writes each line of a process's output to w behind a tag.
func prefixed(w io.Writer, tag string) io.WriteCloser {
	r, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			fmt.Fprintf(w, "[%s] %s\n", tag, sc.Text())
		}
		io.Copy(io.Discard, r)
	}()
	return pw
}

// tsSlots are the places for scenario pairs, shared by TestTSClient and
// TestTSClientV2: they run in parallel with each other and with the other
// tests, and Node.js clients starting on a loaded machine take seconds
// each, so together they keep to max(2, GOMAXPROCS) pairs at a time
// (MCPGW_TSCLIENT_JOBS overrides).
var tsSlots = sync.OnceValues(func() (chan struct{}, int) {
	jobs := max(2, runtime.GOMAXPROCS(0))
	if n, err := strconv.Atoi(os.Getenv("MCPGW_TSCLIENT_JOBS")); err == nil && n > 0 {
		jobs = n
	}
	return make(chan struct{}, jobs), jobs
})

func testTSClient(t *testing.T, sdk string) {
	t.Parallel()
	drv := testenv.TSClientDriver(t, sdk)
	everything := testenv.NpmBin(t, "mcp-server-everything")
	mcpgw := testenv.Mcpgw(t)
	t.Logf("driving %s@%s", drv.Package, drv.Version)

	base := t.TempDir()
	slots, jobs := tsSlots()
	pairs := map[tsCase]*tsPair{}
	start := time.Now()
	for _, front := range []string{"stdio", "http"} {
		for _, v := range tsVersions[sdk] {
			for _, sc := range tsScenarios {
				c := tsCase{front, v, sc}
				if !tsSelected(t.Name(), front, v, sc) {
					continue
				}
				p := &tsPair{done: make(chan struct{})}
				pairs[c] = p
				go func() {
					defer close(p.done)
					slots <- struct{}{}
					defer func() { <-slots }()
					began := time.Now()
					p.direct, p.via, p.err = runTSPair(drv, sdk, c, everything, mcpgw, base, &p.log)
					p.took = time.Since(began)
				}()
			}
		}
	}
	t.Cleanup(func() {
		// Subtests wait for their pair; a test that stops early must
		// not leave the others running behind it.
		for _, p := range pairs {
			<-p.done
		}
		t.Logf("%d scenario pairs in %v (%d at a time)", len(pairs), time.Since(start).Round(time.Millisecond), jobs)
	})

	for _, front := range []string{"stdio", "http"} {
		t.Run(front, func(t *testing.T) {
			for _, v := range tsVersions[sdk] {
				t.Run(v, func(t *testing.T) {
					for _, sc := range tsScenarios {
						t.Run(sc, func(t *testing.T) {
							p := pairs[tsCase{front, v, sc}]
							if p == nil {
								t.Skip("not selected")
							}
							<-p.done
							t.Logf("direct and through mcpgw in %v", p.took.Round(time.Millisecond))
							if p.err != nil {
								t.Fatalf("%v\n%s", p.err, p.log.String())
							}
							compareTS(t, front, sc, v, p)
							if t.Failed() {
								t.Logf("processes' stderr:\n%s", lastLines(p.log.String(), 60))
								t.Logf("info, direct: %s", tsInfo(p.direct))
								t.Logf("info, through mcpgw: %s", tsInfo(p.via))
							}
						})
					}
				})
			}
		})
	}
}

// tsSelected reports whether the -run pattern can select the subtest named
// by parts, so that only the pairs whose subtests run are run.
func tsSelected(parts ...string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	pats := strings.Split(f.Value.String(), "/")
	for i, name := range parts {
		if i >= len(pats) {
			break
		}
		re, err := regexp.Compile(pats[i])
		if err != nil {
			return true
		}
		if !re.MatchString(name) {
			return false
		}
	}
	return true
}

func tsInfo(tr *tsTranscript) string {
	if tr == nil {
		return "(none)"
	}
	b, _ := json.Marshal(map[string]any{"meta": tr.Meta, "info": tr.Info, "errors": tr.Errors})
	if len(b) > 4000 {
		b = append(b[:4000], "…"...)
	}
	return string(b)
}

// runTSPair runs one scenario against server-everything directly and through
// mcpgw, at the same time.
func runTSPair(drv testenv.TSClient, sdk string, c tsCase, everything, mcpgw, base string, log *testenv.SyncBuffer) (direct, via *tsTranscript, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), tsPairTimeout)
	defer cancel()
	dir, err := os.MkdirTemp(base, c.front+"-"+c.version+"-"+c.scenario+"-")
	if err != nil {
		return nil, nil, err
	}
	tapLog := filepath.Join(dir, "server-saw.jsonl")
	cfg := fmt.Sprintf("servers:\n  everything:\n    command: %q\n    args: [%q, %q, \"--\", %q, \"stdio\"]\n",
		drv.Node, drv.Tap, tapLog, everything)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, nil, err
	}
	env := append(os.Environ(), drv.Env...)
	env = append(env, "MCPGW_DB="+filepath.Join(dir, "record.db"))

	var directTarget, viaTarget []string
	switch c.front {
	case "stdio":
		directTarget = []string{"--", everything, "stdio"}
		viaTarget = []string{"--", mcpgw, "serve", "--config", cfgPath}
	case "http":
		url, stop, err := tsServe(ctx, log, "everything --http", env, everything, []string{"streamableHttp"}, true)
		if err != nil {
			return nil, nil, err
		}
		defer stop()
		gwURL, gwStop, err := tsServe(ctx, log, "mcpgw --http", env, mcpgw, []string{"serve", "--http", "127.0.0.1:0", "--config", cfgPath}, false)
		if err != nil {
			return nil, nil, err
		}
		defer gwStop()
		directTarget = []string{"--url", url}
		viaTarget = []string{"--url", gwURL + "mcp"}
	}
	viaTarget = append([]string{"--prefix", tsPrefix, "--tap", tapLog}, viaTarget...)

	var wg sync.WaitGroup
	var directErr, viaErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		direct, directErr = runTSDriver(ctx, drv, sdk, c, env, directTarget, log, "direct")
	}()
	go func() {
		defer wg.Done()
		via, viaErr = runTSDriver(ctx, drv, sdk, c, env, viaTarget, log, "via mcpgw")
	}()
	wg.Wait()
	if keep := os.Getenv("MCPGW_TSCLIENT_KEEP"); keep != "" {
		os.MkdirAll(keep, 0o755)
		if b, err := os.ReadFile(tapLog); err == nil {
			os.WriteFile(filepath.Join(keep, fmt.Sprintf("%s-%s-%s-%s-server-saw.jsonl", sdk, c.front, c.version, c.scenario)), b, 0o644)
		}
		os.WriteFile(filepath.Join(keep, fmt.Sprintf("%s-%s-%s-%s-stderr.txt", sdk, c.front, c.version, c.scenario)), []byte(log.String()), 0o644)
	}
	if directErr != nil {
		return nil, nil, fmt.Errorf("direct: %w", directErr)
	}
	if viaErr != nil {
		return nil, nil, fmt.Errorf("through mcpgw: %w", viaErr)
	}
	return direct, via, nil
}

func runTSDriver(ctx context.Context, drv testenv.TSClient, sdk string, c tsCase, env, target []string, log io.Writer, tag string) (*tsTranscript, error) {
	args := []string{drv.Driver, "--sdk", sdk, "--version", c.version, "--scenario", c.scenario,
		"--timeout-ms", strconv.Itoa(int(tsDriverTimeout / time.Millisecond))}
	cmd := exec.CommandContext(ctx, drv.Node, append(args, target...)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr := prefixed(log, tag)
	defer stderr.Close()
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("driver: %v\n%s", err, lastLines(out.String(), 20))
	}
	if keep := os.Getenv("MCPGW_TSCLIENT_KEEP"); keep != "" {
		name := fmt.Sprintf("%s-%s-%s-%s-%s.json", sdk, c.front, c.version, c.scenario, strings.ReplaceAll(tag, " ", "-"))
		if err := os.MkdirAll(keep, 0o755); err == nil {
			os.WriteFile(filepath.Join(keep, name), out.Bytes(), 0o644)
		}
	}
	var tr tsTranscript
	if err := json.Unmarshal(out.Bytes(), &tr); err != nil {
		return nil, fmt.Errorf("driver output: %v\n%s", err, lastLines(out.String(), 20))
	}
	return &tr, nil
}

// tsServe starts a streamable HTTP server and returns its URL once it says
// where it listens: server-everything (port from $PORT, path /mcp) or mcpgw
// ("serving MCP at URL"). It stops with an interrupt when ctx ends or stop
// is called.
func tsServe(ctx context.Context, log io.Writer, tag string, env []string, bin string, args []string, everything bool) (string, func(), error) {
	for attempt := 0; ; attempt++ {
		sctx, cancel := context.WithCancel(ctx)
		cmd := exec.CommandContext(sctx, bin, args...)
		cmd.Env = env
		var port string
		if everything {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				cancel()
				return "", nil, err
			}
			_, port, _ = net.SplitHostPort(l.Addr().String())
			l.Close()
			cmd.Env = append(slices.Clip(env), "PORT="+port)
		}
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 3 * time.Second
		stdout := prefixed(log, tag)
		cmd.Stdout = stdout
		pipe, err := cmd.StderrPipe()
		if err != nil {
			cancel()
			return "", nil, err
		}
		if err := cmd.Start(); err != nil {
			cancel()
			return "", nil, err
		}
		found := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(pipe)
			said := false
			for sc.Scan() {
				line := sc.Text()
				fmt.Fprintf(log, "[%s] %s\n", tag, line)
				if said {
					continue
				}
				if everything && strings.Contains(line, "listening on port "+port) {
					found <- "http://127.0.0.1:" + port + "/mcp"
					said = true
				} else if _, url, ok := strings.Cut(line, "serving MCP at "); ok && !everything {
					found <- strings.TrimSpace(url)
					said = true
				}
			}
			if !said {
				close(found)
			}
		}()
		stop := func() {
			cancel()
			cmd.Wait()
			stdout.Close()
		}
		select {
		case url, ok := <-found:
			if ok {
				return url, stop, nil
			}
			stop()
			if everything && attempt < 2 { // the port was taken meanwhile
				continue
			}
			return "", nil, fmt.Errorf("%s exited without serving", tag)
		case <-ctx.Done():
			stop()
			return "", nil, fmt.Errorf("%s: %w before it served", tag, ctx.Err())
		}
	}
}

// compareTS compares the sections of the two transcripts of one scenario,
// one subtest per section.
func compareTS(t *testing.T, front, scenario, version string, p *tsPair) {
	for side, tr := range map[string]*tsTranscript{"direct": p.direct, "through mcpgw": p.via} {
		for _, k := range []string{"driverError", "connectError", "scenarioError", "timedOut"} {
			if v, ok := tr.Meta[k]; ok {
				t.Errorf("%s: %s: %v", side, k, v)
			}
		}
	}
	var names []string
	for _, tr := range []*tsTranscript{p.direct, p.via} {
		for _, s := range tr.Sections {
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	for _, name := range names {
		sub := strings.ReplaceAll(strings.TrimPrefix(name, scenario+"."), "/", ".")
		t.Run(sub, func(t *testing.T) {
			d, dok := p.direct.section(name)
			v, vok := p.via.section(name)
			for _, tr := range []*tsTranscript{p.direct, p.via} {
				if why := tr.notApplicable(name); why != "" {
					t.Skipf("not compared at %s (%s), which has no such behaviour: %s", tr.Meta["negotiatedVersion"], tr.Meta["era"], why)
				}
			}
			if why := tsKnownGap(front, version, name); why != "" {
				t.Skipf("known gap, not relayed as the server sends it yet (README, Protocol fidelity): %s", why)
			}
			switch {
			case !dok:
				t.Fatalf("%s: only through mcpgw: %s", name, v)
			case !vok:
				t.Fatalf("%s: missing through mcpgw (directly: %s)", name, d)
			}
			dv, vv := tsNormalize(d, false), tsNormalize(v, true)
			if name == "initialize.capabilities" {
				// Tasks are not relayed (README); the rest is compared.
				if m, ok := dv.(map[string]any); ok {
					delete(m, "tasks")
				}
			}
			if !slices.Contains(tsServerVersions, version) && strings.Contains(name, "tools/list") {
				// Directly the client spoke 2025-11-25 (server-everything
				// has no 2026-07-28), whose Tool has execution; through
				// mcpgw 2026-07-28, whose Tool has not (mcpgw drops it,
				// as the TypeScript SDK's own servers do).
				dv = tsWithout(dv, "execution")
			}
			switch name {
			case "initialize.protocolVersion":
				// The agent gets the version it asked for; directly, a
				// version server-everything lacks falls back to its own.
				if vv != version {
					t.Errorf("through mcpgw the client negotiated %v, asked for %s", vv, version)
				}
				if slices.Contains(tsServerVersions, version) && dv != version {
					t.Errorf("directly the client negotiated %v, asked for %s", dv, version)
				}
				return
			case "initialize.instructions":
				checkMergedInstructions(t, dv, vv, p.via.connectTime())
				return
			case "unknown-tool.outcome", "unknown-tool.wire":
				checkUnknownTool(t, dv, vv)
				return
			}
			if diff := cmp.Diff(dv, vv); diff != "" {
				t.Errorf("%s differs (-direct +through mcpgw):\n%s", name, diff)
			}
		})
	}
}

// tsKnownGap says why a section is not compared yet: behaviour mcpgw does
// not relay as the server sends it, each said in the README (and open in
// the issue tracker), so the run stays green for everything else while the
// gap shows in the test log.
func tsKnownGap(front, version, name string) string {
	switch {
	case strings.HasPrefix(name, "tasks."):
		return "tasks: go-sdk v1.8.0 has no tasks, so mcpgw neither offers the capability nor relays task requests"
	case strings.HasPrefix(name, "logging.") && front == "http" && version >= "2026-07-28":
		return "a log message server-everything sends around its tool's result reaches a 2026-07-28 HTTP agent only while that request's stream is open (directly, at 2025-11-25, it has a standing stream): whether it makes it is a race"
	case strings.HasPrefix(name, "cancel.") && !slices.Contains(tsServerVersions, version):
		return "directly the client cancels at server-everything's 2025-11-25, through mcpgw at 2026-07-28, where cancelling differs: not comparable"
	}
	return ""
}

// tsWithout removes key from every object in v.
func tsWithout(v any, key string) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = tsWithout(x[i], key)
		}
	case map[string]any:
		delete(x, key)
		for k, e := range x {
			x[k] = tsWithout(e, key)
		}
	case string: // a list of keys, as tools/list.tool-keys has them
		return strings.ReplaceAll(x, ","+key, "")
	}
	return v
}

// checkUnknownTool: a call of a tool nobody lists gets, as directly, an
// isError result with one text; the words are mcpgw's own (with a
// did-you-mean where a name is near) but must name the tool.
func checkUnknownTool(t *testing.T, direct, via any) {
	shape := func(v any) (text string, ok bool) {
		m, _ := v.(map[string]any)
		r, _ := m["result"].(map[string]any)
		content, _ := r["content"].([]any)
		if r["isError"] != true || len(content) != 1 {
			return "", false
		}
		c, _ := content[0].(map[string]any)
		text, _ = c["text"].(string)
		return text, c["type"] == "text"
	}
	if _, ok := shape(direct); !ok {
		t.Fatalf("directly, not an isError result with one text: %v", direct)
	}
	text, ok := shape(via)
	if !ok {
		t.Fatalf("through mcpgw, not an isError result with one text: %v", via)
	}
	if !strings.Contains(text, "no-such-tool") {
		t.Errorf("through mcpgw the text does not name the tool: %q", text)
	}
}

// checkMergedInstructions: mcpgw merges its servers' instructions, each
// under a heading naming the server, in configuration order; with one
// server, its instructions must appear whole after a heading with its name.
//
// initialize waits up to 10 s for a server with nothing cached (see the
// README); connect is how long the client took to connect through mcpgw.
// A server slower than that on a loaded machine (node starting
// server-everything has taken 12 s under CI's load) misses the session's
// instructions by design, which is logged rather than failed.
func checkMergedInstructions(t *testing.T, direct, via any, connect time.Duration) {
	d, _ := direct.(string)
	if d == "" {
		if via != nil && via != "" {
			t.Errorf("the server gives no instructions, mcpgw gives %q", via)
		}
		return
	}
	v, _ := via.(string)
	i := strings.Index(v, d)
	if i < 0 && v == "" && connect >= initializeWait {
		t.Logf("connecting through mcpgw took %s, past its %s wait for servers at initialize: the server's instructions missed this session, as the README says", connect, initializeWait)
		return
	}
	if i < 0 {
		t.Errorf("the server's instructions (%d bytes, %q…) are not in mcpgw's: %q (connected in %s)", len(d), firstLine(d), v, connect)
		return
	}
	heading := false
	for _, line := range strings.Split(v[:i], "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "everything") {
			heading = true
		}
	}
	if !heading {
		t.Errorf("the server's instructions are not under a heading naming it: %q", v[:i])
	}
}

// initializeWait is how long mcpgw's initialize waits for servers that
// have nothing cached (mux's instructionsWait).
const initializeWait = 10 * time.Second

// connectTime is how long the client took to connect, as the driver
// measured it; 0 when it did not say.
func (tr *tsTranscript) connectTime() time.Duration {
	timing, _ := tr.Meta["timingMs"].(map[string]any)
	ms, _ := timing["connect"].(float64)
	return time.Duration(ms * float64(time.Millisecond))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

var (
	tsUUID      = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	tsHexID     = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	tsClock     = regexp.MustCompile(`\b\d{1,2}:\d{2}:\d{2}\s?[AP]M\b`)
	tsSessionIn = regexp.MustCompile(` - SessionId <uuid>`)
	tsSession   = regexp.MustCompile(`session (undefined|<uuid>)`)
	// server-everything's simulated log messages pick a level at random.
	tsSimulated = regexp.MustCompile(`^(Debug|Info|Notice|Warning|Error|Critical)-level message|^Alert level-message|^Emergency-level message`)
)

func tsNormString(s string, via bool) string {
	if via {
		s = strings.ReplaceAll(s, tsPrefix, "")
	}
	s = tsUUID.ReplaceAllString(s, "<uuid>")
	s = tsHexID.ReplaceAllString(s, "<id>")
	s = tsClock.ReplaceAllString(s, "<time>")
	s = tsSessionIn.ReplaceAllString(s, "")
	s = tsSession.ReplaceAllString(s, "session <session>")
	// JSON text (fields.*) compares as indented text in the order sent,
	// so that a difference shows line by line.
	if t := strings.TrimSpace(s); len(t) > 1 && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
		var b bytes.Buffer
		if json.Indent(&b, []byte(t), "", "  ") == nil {
			s = b.String()
		}
	}
	return s
}

// tsNormalize decodes a section value and applies the normalizations listed
// at the top of this file.
func tsNormalize(raw json.RawMessage, via bool) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case string:
			return tsNormString(x, via)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
			return x
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[tsNormString(k, via)] = walk(e)
			}
			// A log message's params.
			if _, ok := out["level"]; ok {
				if data, ok := out["data"].(string); ok {
					if via {
						if lg, ok := out["logger"].(string); ok {
							if lg == "everything" {
								delete(out, "logger")
							} else if rest, ok := strings.CutPrefix(lg, "everything/"); ok {
								out["logger"] = rest
							}
						}
					}
					if tsSimulated.MatchString(data) {
						out["level"] = "<random>"
						out["data"] = "<simulated message>"
					}
				}
			}
			return out
		}
		return x
	}
	return walk(v)
}
