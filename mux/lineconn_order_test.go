package mux

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// TestWriteNoWaitKeepsOrder writes through a pipe whose reader is behind:
// messages that cannot go at once wait in a backlog, and arrive in the
// order they were written (a call's cancellation never overtakes it).
func TestWriteNoWaitKeepsOrder(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := &lineConn{w: w}
	// Fill the pipe so that the next writes time out.
	filler := strings.Repeat("x", 1<<10)
	for i := 0; ; i++ {
		c.writeNoWait([]byte(filler))
		if c.backlogged.Load() {
			break
		}
		if i > 1<<12 {
			t.Fatal("the pipe never filled")
		}
	}
	const n = 200
	for i := range n {
		if err := c.writeNoWait([]byte(fmt.Sprintf("m%03d", i))); err != nil {
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
	if len(got) != n {
		t.Fatalf("read %d messages; want %d", len(got), n)
	}
	for i, m := range got {
		if want := fmt.Sprintf("m%03d", i); m != want {
			t.Fatalf("message %d is %s; want %s (order lost)", i, m, want)
		}
	}
}
