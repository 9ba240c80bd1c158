package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

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
	// CanPrompt reports whether questions may be asked on ErrOut and
	// answered on In (In is a terminal).
	CanPrompt bool
}

// System returns the process's own streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		s.CanPrompt = true
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

// askYesNo asks question on ErrOut and reads the answer from In: true for
// yes (and for just Enter when def is true). Like readHidden, it returns
// at once when ctx ends, not at the next Enter.
func (s *IOStreams) askYesNo(ctx context.Context, question string, def bool) (bool, error) {
	hint := " [y/N] "
	if def {
		hint = " [Y/n] "
	}
	fmt.Fprint(s.ErrOut, question+hint)
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		var b []byte
		one := make([]byte, 1)
		for {
			n, err := s.In.Read(one)
			if n > 0 {
				if one[0] == '\n' {
					break
				}
				b = append(b, one[0])
			}
			if err != nil {
				got <- answer{string(b), err}
				return
			}
		}
		got <- answer{string(b), nil}
	}()
	select {
	case a := <-got:
		line := strings.ToLower(strings.TrimSpace(a.line))
		if a.err != nil && line == "" {
			return false, a.err // no answer (stdin closed): not a yes
		}
		switch line {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		}
		return false, nil
	case <-ctx.Done():
		fmt.Fprintln(s.ErrOut)
		return false, context.Cause(ctx)
	}
}
