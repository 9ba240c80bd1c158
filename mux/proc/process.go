package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/mcpgw/mcpgw/mux/internal/rawio"
)

// Defaults for [Spec] fields left at their zero value.
const (
	// DefaultGracePeriod is how long [Process.Close] waits after closing the
	// child's stdin before it signals the process tree; it then waits
	// two thirds of it after SIGTERM. With the default the slowest stop
	// (a server that ignores both) takes 2.5 s and the kill, inside the
	// 3 s a shutdown gets.
	DefaultGracePeriod = 1500 * time.Millisecond
	// DefaultMaxLineBytes bounds one line of a child's stdout; a longer line
	// is discarded while it streams. It is the line limit of go-sdk's stdio
	// transports (mcp.DefaultMaxLineLength), which agents built on it apply
	// to what mcpgw sends them: a longer response passed on would end the
	// agent's whole session, every server's calls with it, where discarding
	// it fails only its own call.
	DefaultMaxLineBytes = 16 << 20
)

const (
	stderrLines   = 200     // lines kept by the stderr ring
	stderrLineCap = 8 << 10 // longest stderr line kept whole
	stderrDrain   = 500 * time.Millisecond
	// endWait bounds how long the end of a child's stdout waits for the
	// child to exit, to say how it ended (see outputReader).
	endWait = time.Second
)

// Spec describes a stdio MCP server to spawn.
type Spec struct {
	Name    string   // server name, used to prefix stderr lines
	Command string   // program: a path, or a name looked up in PATH
	Args    []string // arguments, without the program name
	Env     []string // KEY=VALUE entries added to the minimal environment servers get (see childEnviron)
	Dir     string   // working directory; "" means mcpgw's

	// GracePeriod is how long Close waits for the child to exit once its
	// stdin is closed, before it sends SIGTERM (and, after half as long
	// again, SIGKILL to the whole tree). Zero means [DefaultGracePeriod].
	GracePeriod time.Duration
	// MaxLineBytes bounds one stdout line (without its newline); longer
	// lines are discarded while streaming. Zero means [DefaultMaxLineBytes].
	MaxLineBytes int
	// Stderr, when set, receives every stderr line of the child as
	// "[Name] line\n" (in serve mode typically os.Stderr, which desktop
	// agents keep in their MCP logs). Nil keeps the lines in the ring only.
	Stderr io.Writer
	// Redact, when set, masks secrets in stderr lines and in the notes
	// about skipped stdout lines before they are kept or written.
	Redact func(string) string
	// Unsupervised spawns the child directly, without a supervisor (or, on
	// Windows, a Job Object), for debugging: a SIGKILL of mcpgw can then
	// leave the child's tree running. mcpgw sets it from
	// MCPGW_NO_SUPERVISOR=1; this package reads no configuration of its own.
	Unsupervised bool
}

// Process is a running stdio MCP server started by [Start].
//
// Its stdout is filtered (see [Process.Output]), its stderr is kept in a
// ring buffer (see [Process.StderrTail]), and [Process.Close] never leaves a
// child, grandchild or zombie behind. On Linux, macOS and the BSDs, when
// the binary calls [SupervisorMain], each child runs under a small
// supervisor process, and on Windows in a Job Object, so that even a SIGKILL
// of mcpgw takes the whole tree down with it.
type Process struct {
	spec Spec
	pid  int
	h    handle

	stdin     io.WriteCloser // inW, raw where it can be (rawPipe)
	stdoutR   *os.File
	stderrR   *os.File
	filter    *stdoutFilter
	stderrEOF chan struct{}

	mu      sync.Mutex
	ring    [stderrLines]string
	ringN   int // lines ever added
	exitErr error

	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// handle is the platform's grip on a started child (or its supervisor).
type handle interface {
	// wait blocks until the child has exited and its tree is cleaned up,
	// and returns how it exited (nil for status 0).
	wait() error
	// terminate asks the child's process group to stop (SIGTERM; on
	// Windows CTRL_BREAK, when the child shares mcpgw's console).
	terminate()
	// kill kills the child's whole tree and makes wait return soon.
	kill()
}

// Start starts the child and returns it running.
//
// On Linux, macOS and the BSDs, when [SupervisorMain] has run in this
// binary (the program called it first thing in main, or a test binary in
// TestMain), the child is started under a supervisor: mcpgw re-executed.
// Otherwise (and on AIX and Solaris) the child is spawned directly in its
// own process group; then a SIGKILL of mcpgw itself can leave the child's
// tree running, which the supervisor exists to prevent. On Windows the child
// is started in a Job Object that Windows kills when mcpgw exits.
// [Spec].Unsupervised turns supervisors and jobs off (for debugging).
func Start(spec Spec) (*Process, error) {
	return start(spec, !spec.Unsupervised && supervisorEnabled())
}

// start starts spec, under a supervisor when supervise is true and the
// platform has one.
func start(spec Spec, supervise bool) (*Process, error) {
	if spec.Command == "" {
		return nil, errors.New("no command")
	}
	if spec.GracePeriod <= 0 {
		spec.GracePeriod = DefaultGracePeriod
	}
	if spec.MaxLineBytes <= 0 {
		spec.MaxLineBytes = DefaultMaxLineBytes
	}
	prog, childPath, err := lookCommand(spec.Command, spec.Env)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, spec.Args...)
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	cmd.Dir = spec.Dir
	cmd.Env = append(childEnviron(), spec.Env...)
	if childPath != "" {
		cmd.Env = append(cmd.Env, "PATH="+childPath)
	}

	var files []*os.File // every end we created, for cleanup on failure
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW

	p := &Process{
		spec:      spec,
		stdin:     rawPipe(inW),
		stdoutR:   outR,
		stderrR:   errR,
		stderrEOF: make(chan struct{}),
		done:      make(chan struct{}),
	}
	p.filter = newStdoutFilter(rawPipe(outR), spec.MaxLineBytes, p.Note)
	p.filter.server = spec.Name
	h, pid, err := launch(cmd, supervise)
	// The child has its own copies now (or failed to start).
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		closeAll()
		return nil, err
	}
	p.h, p.pid = h, pid
	go p.readStderr()
	go func() {
		err := h.wait()
		// Let the last stderr lines land before Done, but do not hang on a
		// descendant that somehow still holds the pipe.
		t := time.NewTimer(stderrDrain)
		select {
		case <-p.stderrEOF:
		case <-t.C:
		}
		t.Stop()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// stdout returns the child's stdout, filtered: only lines whose first
// non-space byte is '{' or '[' pass, each ending in '\n'; other lines are
// diverted to the stderr ring with a note, blank lines are dropped. Lines of
// any length up to the spec's MaxLineBytes pass; a longer line is discarded
// while it streams (at most MaxLineBytes of it is ever buffered) and noted,
// and when it was a response whose id can be recovered, a JSON-RPC error
// response with that id takes its place so only that call fails.
//
// Reads happen in the caller's goroutine; there is one stdout per Process,
// and it is not safe for concurrent reads.
func (p *Process) stdout() io.Reader { return p.filter }

// Output returns the child's stdout for a connection to the server,
// filtered: only JSON lines (first non-space byte '{' or '[') pass, each
// ending in '\n'; other lines go to the stderr tail with a note. A line
// over the spec's MaxLineBytes is discarded while it streams, and when it
// was a response whose id can be recovered, a JSON-RPC error response with
// that id takes its place, so only that call fails.
//
// At the end of the stream, instead of a bare io.EOF, Read returns an error
// saying how the process ended and what it last wrote on stderr (it matches
// io.EOF with errors.Is). A connection hands its read error to every call
// still waiting for an answer, so a call in flight when its server dies can
// say why.
//
// Reads happen in the caller's goroutine; there is one Output per Process
// (it shares the filter with stdout), and it is not safe for concurrent
// reads.
func (p *Process) Output() io.Reader { return outputReader{p} }

type outputReader struct{ p *Process }

func (r outputReader) Read(b []byte) (int, error) {
	n, err := r.p.filter.Read(b)
	if err == io.EOF {
		err = r.p.endError()
	}
	return n, err
}

// stdoutEndError is the end of a child's stdout, described. It matches io.EOF
// (errors.Is), so the end of the stream is still seen as one.
type stdoutEndError struct{ msg string }

func (e *stdoutEndError) Error() string { return e.msg }
func (e *stdoutEndError) Unwrap() error { return io.EOF }

// endError describes the end of the child's stdout. A child that dies
// closes its stdout as it goes: wait a moment for its exit status and its
// last stderr lines (Done waits for stderr to drain).
func (p *Process) endError() error {
	p.waitDone(endWait)
	return &stdoutEndError{"process " + p.HowEnded() + p.StderrHint()}
}

// HowEnded says how the process ended, to follow "process " in a message:
// its exit error ("exited with status 1", "killed by signal SIGKILL") or
// "exited"; while it still runs (its stdout ended first), "closed its
// connection".
func (p *Process) HowEnded() string {
	select {
	case <-p.Done():
		if err := p.ExitErr(); err != nil {
			return err.Error()
		}
		return "exited"
	default:
		return "closed its connection"
	}
}

// StderrHint returns the child's last stderr lines (up to 5) as a suffix for
// an error message, "; last stderr: a | b", so a failing server's last
// words reach the user; "" when it wrote none. A nil *Process (a server
// that is not a local process) has none.
func (p *Process) StderrHint() string {
	if p == nil {
		return ""
	}
	tail := p.StderrTail()
	if len(tail) == 0 {
		return ""
	}
	if len(tail) > 5 {
		tail = tail[len(tail)-5:]
	}
	return "; last stderr: " + strings.Join(tail, " | ")
}

// Stdin returns the child's stdin. Closing it tells a well-behaved server to
// exit.
func (p *Process) Stdin() io.WriteCloser { return p.stdin }

// StderrTail returns the child's last stderr lines (up to 200), oldest
// first, each as written without its line ending. Non-JSON lines from
// stdout and notes about discarded lines appear here too, marked as such.
func (p *Process) StderrTail() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(p.ringN, stderrLines)
	out := make([]string, 0, n)
	for i := p.ringN - n; i < p.ringN; i++ {
		out = append(out, p.ring[i%stderrLines])
	}
	return out
}

// Done returns a channel closed when the child has exited (and, under the
// supervisor, its tree has been killed).
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr reports how the child exited, once Done is closed: nil for exit
// status 0, otherwise an error such as "exited with status 1" or "killed by
// signal SIGKILL". Before Done it returns nil.
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// PID returns the process id of the server itself (not of its supervisor).
func (p *Process) PID() int { return p.pid }

// Close stops the child: it closes its stdin, waits up to the grace period
// for it to exit, then sends SIGTERM to its process group, waits two thirds
// of the grace period more, and finally kills the whole tree (process group and
// every descendant) and waits for it. It then closes the stdout and stderr
// pipes, so a blocked read of [Process.Output] reaches its end. Close is
// idempotent and safe for concurrent use; every call returns after the
// child is gone. Call it even after the child exited on its own: it
// releases the pipes.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		p.stdin.Close()
		if !p.waitDone(p.spec.GracePeriod) {
			p.h.terminate()
			if !p.waitDone(p.spec.GracePeriod * 2 / 3) {
				p.h.kill()
				<-p.done
			}
		}
		p.stdoutR.Close()
		p.stderrR.Close()
	})
	return p.closeErr
}

// rawPipe is f read and written with raw system calls where it can be
// (see package rawio): every call forwarded to the server passes
// through both of its pipes.
func rawPipe(f *os.File) io.ReadWriteCloser {
	if rf, ok := rawio.Wrap(f); ok {
		return rf
	}
	return f
}

// rwc returns the process as one io.ReadWriteCloser, for transports such as
// go-sdk's mcp.IOTransport: Read is [Process.stdout], Write is
// [Process.Stdin], Close is [Process.Close].
func (p *Process) rwc() io.ReadWriteCloser { return processRWC{p} }

type processRWC struct{ p *Process }

func (r processRWC) Read(b []byte) (int, error)  { return r.p.filter.Read(b) }
func (r processRWC) Write(b []byte) (int, error) { return r.p.stdin.Write(b) }
func (r processRWC) Close() error                { return r.p.Close() }

func (p *Process) waitDone(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Note adds a line of mcpgw's own to the child's stderr tail (see
// [Process.StderrTail]), redacted like the child's lines: such as a note
// that the connection skipped a stdout line it could not parse, so the
// tail tells the whole story of what the server sent.
func (p *Process) Note(line string) { p.keep(line) }

// keep adds a line to the stderr ring, redacted, and returns what it kept.
func (p *Process) keep(line string) string {
	if p.spec.Redact != nil {
		line = p.spec.Redact(line)
	}
	p.mu.Lock()
	p.ring[p.ringN%stderrLines] = line
	p.ringN++
	p.mu.Unlock()
	return line
}

// readStderr copies the child's stderr into the ring (and spec.Stderr) line
// by line, without a line length limit: long lines are truncated in the ring.
func (p *Process) readStderr() {
	defer close(p.stderrEOF)
	br := bufio.NewReaderSize(p.stderrR, 4096)
	var long []byte // a line longer than the bufio buffer
	dropped := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if room := stderrLineCap - len(long); room > 0 {
				long = append(long, chunk[:min(room, len(chunk))]...)
				dropped += len(chunk) - min(room, len(chunk))
			} else {
				dropped += len(chunk)
			}
			continue
		}
		if len(chunk) > 0 || len(long) > 0 {
			// The line ending is not part of the line, nor of what a
			// truncated line says it dropped.
			chunk = trimEOL(chunk)
			line := chunk
			if len(long) > 0 {
				room := stderrLineCap - len(long)
				n := min(max(room, 0), len(chunk))
				long = append(long, chunk[:n]...)
				dropped += len(chunk) - n
				line = long
			}
			s := string(line)
			if dropped > 0 {
				s += fmt.Sprintf(" …[%d more bytes]", dropped)
			}
			s = p.keep(s)
			if w := p.spec.Stderr; w != nil {
				io.WriteString(w, "["+p.spec.Name+"] "+s+"\n")
			}
			long, dropped = long[:0], 0
		}
		if err != nil {
			return
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// exitError describes how a child exited.
type exitError struct {
	code   int    // exit status, or -1 when killed by a signal
	signal string // signal name when killed by a signal
}

func (e *exitError) Error() string {
	if e.signal != "" {
		return "killed by signal " + e.signal
	}
	return fmt.Sprintf("exited with status %d", e.code)
}

// ExitCode returns the exit status, or -1 when the child was killed by a
// signal.
func (e *exitError) ExitCode() int { return e.code }
