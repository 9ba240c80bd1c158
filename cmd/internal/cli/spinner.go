package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/briandowns/spinner"
	"golang.org/x/term"

	"github.com/mcpgw/mcpgw/mux"
)

// waiting shows on a terminal what a command waits for: a spinner on
// stderr with a line of text, redrawn as it changes. Where stderr is not a
// terminal (piped, a file, tests) it is nil, and its methods do nothing,
// so scripts never get spinner frames.
type waiting struct {
	s     *spinner.Spinner
	start time.Time
}

// startWaiting starts the spinner with text, when stderr is a terminal.
func startWaiting(s *IOStreams, text string) *waiting {
	f, ok := s.ErrOut.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	w := &waiting{s: spinner.New(spinner.CharSets[14], 100*time.Millisecond, spinner.WithWriterFile(f)), start: time.Now()}
	w.set(text)
	w.s.Start()
	return w
}

// set replaces the text, adding how long the command has waited.
func (w *waiting) set(text string) {
	if w == nil {
		return
	}
	w.s.Lock()
	w.s.Suffix = fmt.Sprintf(" %s (%.0fs)", text, time.Since(w.start).Seconds())
	w.s.Unlock()
}

// stop erases the spinner's line.
func (w *waiting) stop() {
	if w != nil {
		w.s.Stop()
	}
}

// watch updates w with text(), every tick, until the returned function is
// called; that function also stops w.
func (w *waiting) watch(text func() string) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				w.set(text())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		w.stop()
	}
}

// viewWaiting is g.View, showing on a terminal which servers it waits for.
func viewWaiting(ctx context.Context, s *IOStreams, g *mux.Gateway) (*mux.CatalogView, error) {
	w := startWaiting(s, startingText(g.Current()))
	stop := w.watch(func() string { return startingText(g.Current()) })
	defer stop()
	return g.View(ctx)
}

// startingText names the servers still starting.
func startingText(v *mux.CatalogView) string {
	var names []string
	for _, st := range v.Servers {
		if st.State == mux.StateStarting || st.State == mux.StateIdle {
			names = append(names, st.Name)
		}
	}
	if len(names) == 0 {
		return "waiting for the servers"
	}
	return "waiting for " + strings.Join(names, ", ") + " to start"
}

// progressText is a tool's last progress notification, for the spinner:
// "fx__export: 40% writing part 2".
func progressText(tool string, p mux.Progress) string {
	var b strings.Builder
	b.WriteString(tool + ":")
	switch {
	case p.Total > 0:
		fmt.Fprintf(&b, " %.0f%%", 100*p.Progress/p.Total)
	case p.Progress > 0:
		fmt.Fprintf(&b, " %g", p.Progress)
	}
	if p.Message != "" {
		b.WriteString(" " + oneLine(clean(p.Message), 80))
	}
	return b.String()
}
