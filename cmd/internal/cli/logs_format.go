package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
	"github.com/itchyny/gojq"
	"golang.org/x/term"

	"github.com/mcpgw/mcpgw/logs"
)

// The output formats of `mcpgw logs` beyond table and json.
const (
	FormatWide  = "wide"
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// style decides how human output looks: colours and a width to cut lines
// to. Both are off unless Out is a terminal, so piped output is stable.
type style struct {
	color bool
	width int // 0: do not cut
}

// styleFor returns the style of s: on a terminal, colour unless NO_COLOR is
// set (to anything but "") or TERM is dumb, and the terminal's width
// (width, when > 0, overrides it; then $COLUMNS; else nothing is cut).
func styleFor(s *IOStreams, width int) style {
	if !s.IsTerminal {
		return style{}
	}
	st := style{color: os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb", width: width}
	if st.width <= 0 {
		if f, ok := s.Out.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				st.width = w
			}
		}
	}
	if st.width <= 0 {
		if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
			st.width = w
		}
	}
	return st
}

// SGR colours.
const (
	sgrReset  = "\x1b[0m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrBold   = "\x1b[1m"
)

// statusColor: ok green, refusals (denied, blocked) yellow, failures red.
func statusColor(s logs.Status) string {
	switch s {
	case logs.StatusOK:
		return sgrGreen
	case logs.StatusDenied, logs.StatusBlocked:
		return sgrYellow
	}
	return sgrRed
}

// clean makes recorded text safe and one line for a table cell: control
// characters (escape sequences from a hostile server included) and runs of
// whitespace become one space. Nothing is cut.
func clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// safeText keeps newlines and tabs but replaces other control characters,
// for multi-line values shown to a human (logs show).
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return '�'
		}
		return r
	}, s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtLatency is compact and deterministic: 850µs, 12.3ms, 1.52s, 2m5s.
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// fmtBytes writes a size in binary units (1.5 KiB), as sizes in the
// configuration are read, and as every command shows them (go-humanize).
func fmtBytes(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}

// timeFormatter shows call times in loc: compact on a terminal (the time of
// day for today, the date too otherwise), the same full format when piped.
type timeFormatter struct {
	loc     *time.Location
	now     time.Time
	compact bool
}

func (f timeFormatter) format(t time.Time) string {
	t = t.In(f.loc)
	if !f.compact {
		return t.Format("2006-01-02 15:04:05.000")
	}
	now := f.now.In(f.loc)
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04:05")
	case t.Year() == now.Year():
		return t.Format("Jan 02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// column is one column of a [grid].
type column struct {
	header string
	right  bool // right-aligned (numbers)
	min    int  // width to start from, so streamed rows mostly line up
	shrink bool // may be narrowed (values cut with …) to fit a terminal
}

// Narrowing columns to fit a terminal stops at these widths: a shrinkable
// column keeps shrinkMin runes, and the last column is given lastMin
// before anything is narrowed for it.
const (
	shrinkMin = 10
	lastMin   = 12
)

// cell is a value and the colour it is shown in (on a terminal).
type cell struct {
	text  string
	color string
}

// grid writes aligned columns two spaces apart, colouring cells and cutting
// lines to the style's width, counting runes (not bytes, not escapes). The
// last column is left unpadded. Rows given in one write line up; later
// writes (--follow) widen columns as needed.
type grid struct {
	w       io.Writer
	st      style
	cols    []column
	widths  []int
	started bool
}

func newGrid(w io.Writer, st style, cols ...column) *grid {
	g := &grid{w: w, st: st, cols: cols, widths: make([]int, len(cols))}
	for i, c := range cols {
		g.widths[i] = max(c.min, utf8.RuneCountInString(c.header))
	}
	return g
}

// write prints rows (with the header first, once).
func (g *grid) write(rows [][]cell) error {
	for _, r := range rows {
		for i, c := range r {
			g.widths[i] = max(g.widths[i], utf8.RuneCountInString(c.text))
		}
	}
	widths := g.fit()
	var b bytes.Buffer
	if !g.started {
		g.started = true
		h := make([]cell, len(g.cols))
		for i, c := range g.cols {
			h[i] = cell{text: c.header}
		}
		g.line(&b, h, widths)
	}
	for _, r := range rows {
		g.line(&b, r, widths)
	}
	_, err := g.w.Write(b.Bytes())
	return err
}

// fit returns the column widths to use: the natural ones, or with a
// width to fit, shrinkable columns narrowed (widest first, down to
// shrinkMin) until all but the last column fit with lastMin to spare.
func (g *grid) fit() []int {
	w := slices.Clone(g.widths)
	if g.st.width <= 0 {
		return w
	}
	need := func() int {
		n := lastMin
		for _, x := range w[:len(w)-1] {
			n += x + 2
		}
		return n
	}
	for need() > g.st.width {
		widest := -1
		for i, c := range g.cols[:len(w)-1] {
			if c.shrink && w[i] > shrinkMin && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		w[widest]--
	}
	return w
}

func (g *grid) line(b *bytes.Buffer, cells []cell, widths []int) {
	// Lay the line out as plain segments, then cut it to the width (the
	// last visible rune becomes …), then colour what is left.
	type seg struct{ text, color string }
	var segs []seg
	last := len(cells) - 1
	// Trailing empty cells add nothing, not even padding.
	for last > 0 && cells[last].text == "" {
		last--
	}
	for i := 0; i <= last; i++ {
		c := cells[i]
		if n := utf8.RuneCountInString(c.text); i < len(cells)-1 && n > widths[i] {
			c.text = string([]rune(c.text)[:widths[i]-1]) + "…"
		}
		pad := strings.Repeat(" ", max(0, widths[i]-utf8.RuneCountInString(c.text)))
		if i > 0 {
			segs = append(segs, seg{"  ", ""})
		}
		switch {
		case g.cols[i].right:
			segs = append(segs, seg{pad, ""}, seg{c.text, c.color})
		case i == last:
			segs = append(segs, seg{c.text, c.color})
		default:
			segs = append(segs, seg{c.text, c.color}, seg{pad, ""})
		}
	}
	if w := g.st.width; w > 0 {
		total := 0
		for _, s := range segs {
			total += utf8.RuneCountInString(s.text)
		}
		if total > w {
			budget := w - 1 // room for …
			for i, s := range segs {
				n := utf8.RuneCountInString(s.text)
				if n < budget {
					budget -= n
					continue
				}
				segs[i].text = string([]rune(s.text)[:budget]) + "…"
				segs = segs[:i+1]
				break
			}
		}
	}
	for _, s := range segs {
		if s.color != "" && g.st.color && strings.TrimSpace(s.text) != "" {
			b.WriteString(s.color + s.text + sgrReset)
		} else {
			b.WriteString(s.text)
		}
	}
	b.WriteByte('\n')
}

// callColumns are the columns of the call table; wide adds the rest.
func callColumns(wide bool) []column {
	if wide {
		return []column{{header: "ID", right: true}, {header: "TIME", min: 8}, {header: "SERVER", shrink: true}, {header: "TOOL", shrink: true},
			{header: "STATUS", min: 10}, {header: "LATENCY", right: true, min: 7}, {header: "USER", shrink: true}, {header: "TEAM", shrink: true},
			{header: "AGENT", shrink: true}, {header: "BYTES IN", right: true}, {header: "BYTES OUT", right: true}, {header: "DECISION", shrink: true},
			{header: "ERROR"}}
	}
	return []column{{header: "TIME", min: 8}, {header: "SERVER", shrink: true}, {header: "TOOL", shrink: true}, {header: "STATUS", min: 10},
		{header: "LATENCY", right: true, min: 7}, {header: "USER", shrink: true}, {header: "ERROR"}}
}

// errorPreview is what went wrong, on one line: the error, or the policy
// or guard's reason.
func errorPreview(c *logs.Call) string {
	if c.Error != "" {
		return clean(c.Error)
	}
	if c.Status != logs.StatusOK {
		return clean(c.Reason)
	}
	return ""
}

func callRow(c *logs.Call, tf timeFormatter, wide bool) []cell {
	status := cell{string(c.Status), statusColor(c.Status)}
	if !wide {
		return []cell{{text: tf.format(c.Time)}, {text: orDash(clean(c.Server))}, {text: orDash(clean(c.Tool))}, status,
			{text: fmtLatency(c.Latency)}, {text: orDash(clean(c.User))}, {text: errorPreview(c)}}
	}
	return []cell{{text: strconv.FormatInt(c.ID, 10)}, {text: tf.format(c.Time)}, {text: orDash(clean(c.Server))}, {text: orDash(clean(c.Tool))}, status,
		{text: fmtLatency(c.Latency)}, {text: orDash(clean(c.User))}, {text: orDash(clean(c.Team))}, {text: orDash(clean(c.Agent))},
		{text: fmtBytes(c.BytesIn)}, {text: fmtBytes(c.BytesOut)}, {text: orDash(clean(c.Decision))}, {text: errorPreview(c)}}
}

// csvHeader are the columns of -o csv: one call a line, times in UTC
// (RFC 3339, microseconds), latency in microseconds, no payloads.
var csvHeader = []string{"id", "time", "method", "server", "tool", "status", "latency_us", "user", "team", "agent",
	"bytes_in", "bytes_out", "decision", "error", "reason", "rule", "profile"}

// csvRecord is one call's CSV fields; safe replaces control characters
// (for a terminal, where they could be escape sequences).
func csvRecord(c *logs.Call, safe bool) []string {
	r := []string{strconv.FormatInt(c.ID, 10), c.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), c.Method, c.Server, c.Tool,
		string(c.Status), strconv.FormatInt(c.Latency.Microseconds(), 10), c.User, c.Team, c.Agent,
		strconv.FormatInt(c.BytesIn, 10), strconv.FormatInt(c.BytesOut, 10), c.Decision, c.Error, c.Reason, c.Rule, c.Profile}
	if safe {
		for i := range r {
			r[i] = safeText(r[i])
		}
	}
	return r
}

// jqFilter is a compiled --jq expression. Each value it is run on is the
// JSON form of one row; each result is printed on its own line, strings
// raw (like jq -r) and everything else as compact JSON.
type jqFilter struct {
	expr string
	code *gojq.Code
	// safe replaces control characters in raw strings, for a terminal.
	safe bool
}

// compileJQ compiles expr once; a bad expression is a usage error.
func compileJQ(expr string) (*jqFilter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("--jq %q: %w", expr, err))
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("--jq %q: %w", expr, err))
	}
	return &jqFilter{expr: expr, code: code}, nil
}

// errHalt stops the output when the expression calls halt.
var errHalt = errors.New("halt")

// run applies the filter to v's JSON form and writes the results to w.
func (j *jqFilter) run(ctx context.Context, w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var in any
	if err := dec.Decode(&in); err != nil {
		return err
	}
	var out bytes.Buffer
	iter := j.code.RunWithContext(ctx, in)
	for {
		r, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := r.(error); ok {
			var he *gojq.HaltError
			if errors.As(err, &he) && he.Value() == nil {
				w.Write(out.Bytes())
				return errHalt
			}
			w.Write(out.Bytes())
			return fmt.Errorf("--jq %q: %w", j.expr, err)
		}
		if s, ok := r.(string); ok {
			if j.safe {
				s = safeText(s)
			}
			out.WriteString(s)
		} else {
			b, err := gojq.Marshal(r)
			if err != nil {
				return fmt.Errorf("--jq %q: %w", j.expr, err)
			}
			out.Write(b)
		}
		out.WriteByte('\n')
	}
	_, err = w.Write(out.Bytes())
	return err
}

// printJSONLine writes v as one line of compact JSON.
func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
