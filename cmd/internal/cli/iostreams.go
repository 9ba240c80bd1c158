package cli

import (
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
	// line from In without echoing it (for secrets).
	ReadHidden func(prompt string) (string, error)
}

// System returns the process's own streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		s.ReadHidden = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
	}
	return s
}
