package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's standard streams, injected so commands can be
// tested without a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal reports whether Out is a terminal (tables by default) or
	// not (JSON by default).
	IsTerminal bool
	// ReadHidden, set when In is a terminal, prompts on ErrOut and reads a
	// line from In without echoing it (for secrets). It returns at once,
	// with the terminal restored, when ctx ends (Ctrl-C).
	ReadHidden func(ctx context.Context, prompt string) (string, error)
}

// System returns the process's own streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		s.ReadHidden = func(ctx context.Context, prompt string) (string, error) {
			return readHidden(ctx, fd, os.Stderr, prompt)
		}
	}
	return s
}

// readHidden reads a line from the terminal fd without echo. The read runs
// on a goroutine of its own: Ctrl-C at the prompt is a signal mcpgw
// catches (ctx ends), and a read of a terminal does not return before
// Enter, so waiting for it would hold the process, and the next line typed
// would be taken as the value. On ctx's end the terminal gets its echo
// back and the read is left behind for the process's exit.
func readHidden(ctx context.Context, fd int, w io.Writer, prompt string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(w, prompt)
	type line struct {
		b   []byte
		err error
	}
	got := make(chan line, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		got <- line{b, err}
	}()
	select {
	case l := <-got:
		fmt.Fprintln(w)
		return string(l.b), l.err
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(w)
		return "", context.Cause(ctx)
	}
}
