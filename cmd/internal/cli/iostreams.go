package cli

import (
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
}

// System returns the process's own streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd()))}
}
