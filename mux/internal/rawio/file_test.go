//go:build linux

package rawio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// pipe returns both ends of an os.Pipe wrapped, closed at the end.
func pipe(t *testing.T) (r, w *File) {
	t.Helper()
	or, ow, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { or.Close(); ow.Close() })
	r, ok1 := Wrap(or)
	w, ok2 := Wrap(ow)
	if !ok1 || !ok2 {
		t.Fatalf("Wrap(os.Pipe()) = %v, %v; want both wrapped (os.Pipe's files are non-blocking)", ok1, ok2)
	}
	return r, w
}

func TestRoundTripLargerThanThePipe(t *testing.T) {
	r, w := pipe(t)
	// Larger than a pipe's buffer: the writer waits in the poller until
	// the reader takes some.
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	errc := make(chan error, 1)
	go func() {
		n, err := w.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		errc <- errors.Join(err, w.Close())
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written", len(got), len(want))
	}
}

func TestTryWriteNeverWaits(t *testing.T) {
	r, w := pipe(t)
	msg := bytes.Repeat([]byte{'x'}, 4096) // PIPE_BUF: whole or not at all
	total := 0
	for {
		n, err := w.TryWrite(msg)
		if err != nil {
			t.Fatalf("TryWrite: %v", err)
		}
		if n == 0 {
			break // full, and it said so rather than wait
		}
		if n != len(msg) {
			t.Fatalf("TryWrite wrote %d of %d bytes into a pipe", n, len(msg))
		}
		total += n
		if total > 64<<20 {
			t.Fatal("the pipe never filled")
		}
	}
	// What it took is there, in full.
	buf := make([]byte, total)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("reading back %d bytes: %v", total, err)
	}
	if n, err := w.TryWrite(msg); n != len(msg) || err != nil {
		t.Fatalf("TryWrite after draining = %d, %v; want %d, nil", n, err, len(msg))
	}
}

func TestWriteDeadline(t *testing.T) {
	_, w := pipe(t)
	if err := w.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	// Nobody reads: the pipe fills, and the write waits for the deadline.
	_, err := w.Write(make([]byte, 1<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write into a full pipe past its deadline: %v; want os.ErrDeadlineExceeded", err)
	}
}

func TestCloseEndsAWaitingRead(t *testing.T) {
	r, _ := pipe(t)
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		errc <- err
	}()
	// Nothing is written: the read waits in the poller (or has not begun).
	// Closing the file, as Process.Close closes a child's stdout, ends it
	// either way, with the error os.File gives.
	r.Close()
	if err := <-errc; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read of a closed file: %v; want os.ErrClosed", err)
	}
}

func TestEOFWhenTheWriterCloses(t *testing.T) {
	r, w := pipe(t)
	if _, err := w.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "last" {
		t.Fatalf("ReadAll = %q, %v; want \"last\", nil", got, err)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestWrapDeclinesBlockingFiles(t *testing.T) {
	// A blocking descriptor would block a thread the runtime does not know
	// is blocked: os.NewFile of a blocking pipe end is used as it is.
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "blocking")
	defer f.Close()
	defer syscall.Close(fds[1])
	if _, ok := Wrap(f); ok {
		t.Fatal("Wrap took a blocking pipe")
	}
	reg, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if _, ok := Wrap(reg); ok {
		t.Fatal("Wrap took a regular file")
	}
}
