package stdio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpgw/mcpgw/mux/internal/rawio"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// TestWriteNoWaitKeepsOrder writes through a pipe whose reader is behind:
// messages that cannot go at once wait in a backlog, and arrive in the
// order they were written (a call's cancellation never overtakes it).
// Both ways a write is bounded: one raw attempt (Linux), and a deadline.
func TestWriteNoWaitKeepsOrder(t *testing.T) {
	for _, raw := range []bool{true, false} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) { testWriteNoWaitKeepsOrder(t, raw) })
	}
}

func testWriteNoWaitKeepsOrder(t *testing.T, raw bool) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := &Conn{w: w}
	if raw {
		rw, ok := rawio.Wrap(w)
		if !ok {
			t.Skip("raw calls are made only on Linux")
		}
		c.w = rw
	}
	// Fill the pipe so that the next writes time out.
	filler := strings.Repeat("x", 1<<10)
	for i := 0; ; i++ {
		c.WriteNoWait([]byte(filler))
		if c.backlogged.Load() {
			break
		}
		if i > 1<<12 {
			t.Fatal("the pipe never filled")
		}
	}
	const n = 200
	for i := range n {
		if err := c.WriteNoWait([]byte(fmt.Sprintf("m%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan []string)
	go func() {
		var got []string
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<16), 1<<16)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "m") {
				got = append(got, l)
				if len(got) == n {
					break
				}
			}
		}
		done <- got
		io.Copy(io.Discard, r)
	}()
	got := <-done
	w.Close()
	checkInOrder(t, got, n, "m%03d")
}

// TestConnRedacts masks known secret values in what it reads, before
// anything decodes the line.
func TestConnRedacts(t *testing.T) {
	known := guard.NewKnown()
	known.Add("k", "stdio-secret-1")
	r := io.NopCloser(strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"token stdio-secret-1"}}` + "\n"))
	c, _ := NewTransport(r, nopWC{}, &Options{Redact: known}).Connect(context.Background())
	m, err := c.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := string(m.(*jsonrpc.Request).Params); !strings.Contains(p, `"token [redacted:k]"`) {
		t.Errorf("params = %s", p)
	}
}

type nopWC struct{}

func (nopWC) Write(b []byte) (int, error) { return len(b), nil }
func (nopWC) Close() error                { return nil }
