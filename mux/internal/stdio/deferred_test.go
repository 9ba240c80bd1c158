package stdio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// forwardHook forwards every request its connection reads to out, deferred.
type forwardHook struct {
	in, out *Conn
	bounded bool
}

func (h *forwardHook) Take(m *Msg) bool {
	h.in.WriteDeferred(h.out, []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%v,"result":{}}`, m.ID)), h.bounded)
	return true
}

func (h *forwardHook) Closed(error) {}

// writeLog records each Write: deferred writes go out together.
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, string(b))
	w.mu.Unlock()
	return len(b), nil
}

func (w *writeLog) Close() error { return nil }

func (w *writeLog) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// TestWriteDeferredBatches reads three requests that arrived together and
// a fourth that came later: the answers to the three go out in one write,
// in order, before the reader waits for the fourth, whose answer goes out
// alone. A write from elsewhere comes after what was deferred.
func TestWriteDeferredBatches(t *testing.T) {
	pr, pw := io.Pipe()
	log := &writeLog{}
	out := &Conn{w: log}
	h := &forwardHook{out: out}
	c, _ := NewTransport(pr, nopWC{}, &Options{Hook: h}).Connect(context.Background())
	h.in = c.(*Conn)
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(context.Background())
		done <- err
	}()
	req := func(id int) string { return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call"}`+"\n", id) }
	resp := func(id int) string { return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{}}`+"\n", id) }
	if _, err := io.WriteString(pw, req(1)+req(2)+req(3)); err != nil {
		t.Fatal(err)
	}
	// The pipe delivers the next write only when the reader asks for it:
	// once it does, the answers to the first three were written.
	if _, err := io.WriteString(pw, req(4)); err != nil {
		t.Fatal(err)
	}
	want := []string{resp(1) + resp(2) + resp(3)}
	if got := log.get(); len(got) == 0 || got[0] != want[0] {
		t.Fatalf("once the fourth request was asked for: writes %q; want the first %q", got, want[0])
	}
	pw.Close()
	if err := <-done; err == nil {
		t.Fatal("Read returned no error at the end of input")
	}
	if err := out.WriteRaw([]byte("after")); err != nil {
		t.Fatal(err)
	}
	want = append(want, resp(4), "after\n")
	if got := log.get(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("writes %q; want %q", got, want)
	}
}

// TestWriteDeferredOrder defers a write and then writes to the same
// connection from another goroutine before the flush: the deferred one
// goes first, bounded or not.
func TestWriteDeferredOrder(t *testing.T) {
	for _, bounded := range []bool{false, true} {
		log := &writeLog{}
		out := &Conn{w: log}
		in := &Conn{}
		in.WriteDeferred(out, []byte("first"), bounded)
		var wg sync.WaitGroup
		wg.Go(func() { out.WriteRaw([]byte("second")) })
		wg.Wait()
		in.flushDeferred()
		if got := strings.Join(log.get(), ""); got != "first\nsecond\n" {
			t.Errorf("bounded %v: wrote %q; want first, then second", bounded, got)
		}
	}
}

// TestWriteDeferredBacklogIntact defers bounded writes to a connection
// that cannot bound them (no write deadlines), so each flush goes to the
// backlog's goroutine: every message arrives whole and in order, however
// soon the next one is deferred.
func TestWriteDeferredBacklogIntact(t *testing.T) {
	pr, pw := io.Pipe()
	out := &Conn{w: pw} // an io.Pipe has no write deadlines
	in := &Conn{}
	const n = 300
	done := make(chan []string)
	go func() {
		var got []string
		sc := bufio.NewScanner(pr)
		for len(got) < n && sc.Scan() {
			got = append(got, sc.Text())
		}
		done <- got
	}()
	for i := range n {
		in.WriteDeferred(out, []byte(fmt.Sprintf("message-%03d", i)), true)
		if i%3 == 2 {
			in.flushDeferred()
		}
	}
	in.flushDeferred()
	got := <-done
	pw.Close()
	checkInOrder(t, got, n, "message-%03d")
}

// checkInOrder checks that got is the n messages format makes of 0..n-1,
// in order.
func checkInOrder(t *testing.T, got []string, n int, format string) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("read %d messages; want %d", len(got), n)
	}
	for i, m := range got {
		if want := fmt.Sprintf(format, i); m != want {
			t.Fatalf("message %d is %q; want %q (order lost)", i, m, want)
		}
	}
}
