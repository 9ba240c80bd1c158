package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// DefaultMaxScanBytes is how much of a payload's text a [Scanner] looks at
// by default: 4 MiB.
const DefaultMaxScanBytes = 4 << 20

// DefaultMaxScanTime is how long a [Scanner] may look at one payload by
// default.
const DefaultMaxScanTime = 2 * time.Second

// BudgetRule names the finding a scan reports where it ran out of its size
// or time budget: the text from there on was not looked at.
const BudgetRule = "scan-budget"

// Scanner runs detectors over every string of a JSON payload, wherever it
// hides: nested objects and arrays, and JSON encoded inside a string.
// A string that is an object's member is inspected as "key=value", so
// rules that need the name of what they match (gitleaks' generic API key
// rule, say) see it; spans are reported within the value.
type Scanner struct {
	// MaxBytes is the size budget per payload: strings past it are not
	// inspected but reported as [BudgetRule]; 0 means [DefaultMaxScanBytes].
	MaxBytes int
	// MaxTime is the time budget per payload; 0 means [DefaultMaxScanTime].
	MaxTime time.Duration
}

// Scan is what one scan found.
type Scan struct {
	Findings []Finding
	// Over reports that the payload was larger (or slower to scan) than
	// the budget: the strings past it were not inspected, and each has a
	// [BudgetRule] finding.
	Over bool
	// Out is the payload with the spans keep says to redact replaced by
	// [REDACTED:rule] markers, and every string past the budget replaced by
	// [REDACTED:scan-budget]; nil when that changed nothing.
	Out []byte
	// Unplaced reports findings in the payload that no one string of it
	// holds (a match across its structure): they are at the payload's root
	// and Out does not redact them.
	Unplaced bool
}

var lowerPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Scan runs dets over the JSON document b, whose paths start at root
// ("$.arguments", "$.result"). redact says which findings to redact in
// Out; nil redacts none. A payload that is not JSON is scanned as one
// string at root.
func (s *Scanner) Scan(ctx context.Context, b []byte, root string, dets []Detector, redact func(Finding) bool) Scan {
	if len(b) < minFound || len(dets) == 0 {
		return Scan{} // too short to hold anything a detector finds
	}
	budget := s.MaxBytes
	if budget <= 0 {
		budget = DefaultMaxScanBytes
	}
	// First the payload as it is, as gitleaks scans a file: most payloads
	// hold nothing, and saying so costs no decoding. Only when something
	// is found is the payload decoded, to say where and to redact. Escapes
	// of letters and digits (\u0067hp_...) could hide a token from this
	// pass; no encoder writes them, so a payload with any is decoded first.
	// Only the scan's own budget stops it: a call whose context ended (the
	// agent's timeout, say) still has an answer to scan, often mcpgw's own
	// saying so.
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(s.maxTime())
	var raw []Finding
	if len(b) <= budget && !hidesText(b) {
		tp, lp := lowerPool.Get().(*[]byte), lowerPool.Get().(*[]byte)
		*tp, *lp = unescape(*tp, *lp, b)
		p := Payload{Path: root, Text: unsafe.String(unsafe.SliceData(*tp), len(*tp)), Lower: unsafe.String(unsafe.SliceData(*lp), len(*lp)), Deadline: deadline}
		for _, d := range dets {
			raw = append(raw, d.Inspect(ctx, p)...)
		}
		for _, bp := range []*[]byte{tp, lp} {
			if cap(*bp) <= 1<<20 {
				lowerPool.Put(bp)
			}
		}
		if len(raw) == 0 && !p.late() {
			return Scan{}
		}
		// Found something, or ran out of time: the walk below says where,
		// or redacts what it has no time left for.
	}
	w := &walker{ctx: ctx, dets: dets, redact: redact, budget: budget, deadline: deadline}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || d.More() {
		out, changed := w.text(string(b), root, "")
		res := Scan{Findings: w.findings, Over: w.over}
		if changed {
			res.Out = []byte(out)
		}
		return res
	}
	nv, changed := w.value(v, root)
	res := Scan{Findings: w.findings, Over: w.over}
	if changed {
		res.Out = encode(nv)
	}
	if len(res.Findings) == 0 && len(raw) > 0 {
		// Found in the payload but in no one string of it (a match across
		// the structure): reported at root, and never redacted in part.
		for i := range raw {
			raw[i].Path = root
		}
		res.Findings, res.Unplaced = raw, true
	}
	return res
}

// unescape copies the JSON b to text with the escapes that would break a
// pattern's view of the text (\" \/ \n \r \t) turned into a space and the
// character, so offsets stay those of b: "key = \"value\"" reads as
// key =  "value" . lower is text with ASCII letters lowercased, made in
// the same pass.
func unescape(text, lower, b []byte) ([]byte, []byte) {
	text, lower = append(text[:0], b...), append(lower[:0], b...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
			continue
		}
		if c != '\\' || i+1 == len(text) {
			continue
		}
		switch text[i+1] {
		case '"', '/':
			text[i], lower[i] = ' ', ' '
		case 'n':
			text[i], text[i+1], lower[i], lower[i+1] = ' ', '\n', ' ', '\n'
		case 'r':
			text[i], text[i+1], lower[i], lower[i+1] = ' ', '\r', ' ', '\r'
		case 't':
			text[i], text[i+1], lower[i], lower[i+1] = ' ', '\t', ' ', '\t'
		}
		i++
	}
	return text, lower
}

// hidesText reports whether the JSON b escapes a letter, digit, _ or -
// (\u0041), which encoders never do and which would hide text from a scan
// of b as it is.
func hidesText(b []byte) bool {
	for i := bytes.Index(b, []byte(`\u00`)); i >= 0 && i+5 < len(b); {
		c := unhex(b[i+4])<<4 | unhex(b[i+5])
		if c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return true
		}
		j := bytes.Index(b[i+1:], []byte(`\u00`))
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

func (s *Scanner) maxTime() time.Duration {
	if s.MaxTime > 0 {
		return s.MaxTime
	}
	return DefaultMaxScanTime
}

// encode is v as JSON, without HTML escaping (the payload is not HTML).
func encode(v any) []byte {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	e.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// minFound is the shortest text a detector finds: an IPv4 address
// (1.1.1.1).
const minFound = 7

// smallString is the longest string scanned after the size budget is
// spent.
const smallString = 64

// walker is one scan's state.
type walker struct {
	ctx      context.Context
	dets     []Detector
	redact   func(Finding) bool
	budget   int
	deadline time.Time
	over     bool
	findings []Finding
}

// value scans v at path, returning it with redactions made and whether
// any were. Containers are changed in place.
func (w *walker) value(v any, path string) (any, bool) {
	switch x := v.(type) {
	case string:
		return w.text(x, path, "")
	case []any:
		changed := false
		for i, e := range x {
			if nv, ch := w.value(e, path+"["+strconv.Itoa(i)+"]"); ch {
				x[i], changed = nv, true
			}
		}
		return x, changed
	case map[string]any:
		changed := false
		for _, k := range sortedKeys(x) {
			p := memberPath(path, k)
			var nv any
			var ch bool
			if s, ok := x[k].(string); ok {
				nv, ch = w.text(s, p, k)
			} else {
				nv, ch = w.value(x[k], p)
			}
			if ch {
				x[k], changed = nv, true
			}
		}
		return x, changed
	}
	return v, false
}

// memberPath is the path of member key of the object at path.
func memberPath(path, key string) string {
	if isIdent(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// text scans the string s at path (the value of member key, or "").
func (w *walker) text(s, path, key string) (string, bool) {
	if len(s) < minFound {
		return s, false // too short to hold anything a detector finds
	}
	late := time.Now().After(w.deadline)
	if late || len(s) > w.budget && len(s) > smallString {
		// Past the budget: not looked at, so not passed on. Small strings
		// (a content's type, a MIME type) still are, which keeps the
		// payload's shape.
		w.over = true
		w.findings = append(w.findings, Finding{Rule: BudgetRule, Path: path, Start: 0, End: len(s)})
		return marker(BudgetRule), true
	}
	w.budget = max(0, w.budget-len(s))
	if t := strings.TrimSpace(s); len(t) > 1 && (t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']') {
		// JSON inside a string (a tool that returns its JSON as text):
		// scanned as the document it is, so escapes inside it hide nothing.
		var v any
		d := json.NewDecoder(strings.NewReader(t))
		d.UseNumber()
		if d.Decode(&v) == nil && !d.More() {
			w.budget += len(s) // its strings count, not its syntax
			nv, changed := w.value(v, path+"(json)")
			if !changed {
				return s, false
			}
			return string(encode(nv)), true
		}
	}
	text, off := s, 0
	if key != "" && len(key) <= 64 {
		text, off = key+"="+s, len(key)+1
	}
	p := Payload{Path: path, Text: text, Lower: lowerString(text), Deadline: w.deadline}
	var found []Finding
	for _, d := range w.dets {
		for _, f := range d.Inspect(w.ctx, p) {
			f.Start, f.End = max(f.Start-off, 0), f.End-off
			if f.End <= 0 {
				continue // all in the key
			}
			found = append(found, f)
		}
	}
	if len(found) == 0 {
		return s, false
	}
	found = dropGeneric(found)
	w.findings = append(w.findings, found...)
	if w.redact == nil {
		return s, false
	}
	red := found[:0:0]
	for _, f := range found {
		if w.redact(f) {
			red = append(red, f)
		}
	}
	if len(red) == 0 {
		return s, false
	}
	return redactSpans(s, red), true
}

// redactSpans replaces the spans of fs in s by markers; overlapping spans
// become one, named by the first.
func redactSpans(s string, fs []Finding) string {
	fs = slices.Clone(fs)
	// By start; where two start together, the specific rule names the
	// marker, not gitleaks' generic one.
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return boolInt(a.Rule == genericRule) - boolInt(b.Rule == genericRule)
	})
	var b strings.Builder
	at := 0
	for i := 0; i < len(fs); {
		start, end, rule := fs[i].Start, fs[i].End, fs[i].Rule
		for i++; i < len(fs) && fs[i].Start < end; i++ {
			end = max(end, fs[i].End)
		}
		if start < at {
			start = at
		}
		b.WriteString(s[at:start])
		b.WriteString(marker(rule))
		at = end
	}
	b.WriteString(s[at:])
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// genericRule is gitleaks' catch-all rule, which also matches most values
// a specific rule names better.
const genericRule = "generic-api-key"

// dropGeneric removes the generic rule's findings that overlap a specific
// rule's: one value, one finding, under its best name.
func dropGeneric(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		if f.Rule == genericRule && slices.ContainsFunc(fs, func(o Finding) bool {
			return o.Rule != genericRule && o.Start < f.End && f.Start < o.End
		}) {
			continue
		}
		out = append(out, f)
	}
	return out
}
