package proc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

// filterAll runs in through a filter, reading with chunk-sized reads
// from a source that itself returns short reads as wrap decides.
func filterAll(t testing.TB, in string, limit, chunk int, wrap func(io.Reader) io.Reader) (string, []string) {
	var notes []string
	f := newStdoutFilter(wrap(strings.NewReader(in)), limit, func(s string) { notes = append(notes, s) })
	var out bytes.Buffer
	p := make([]byte, chunk)
	for {
		n, err := f.Read(p)
		out.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if n == 0 {
			t.Fatal("Read returned 0, nil")
		}
	}
	return out.String(), notes
}

func TestProcFilter(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	pad := strings.Repeat("a", 300)
	cases := []struct {
		name  string
		in    string
		limit int
		out   string
		notes []string // substrings, in order
	}{
		{name: "json lines", in: "{\"a\":1}\n[2]\n", out: "{\"a\":1}\n[2]\n"},
		{name: "junk between", in: "{\"a\":1}\nhello world\n{\"b\":2}\n", out: "{\"a\":1}\n{\"b\":2}\n", notes: []string{"not JSON, diverted): hello world"}},
		{name: "junk first", in: "Server started on stdio\r\n{\"a\":1}\n", out: "{\"a\":1}\n", notes: []string{"diverted): Server started on stdio"}},
		{name: "blanks", in: "\n  \r\n\t {\"a\":1}\r\n\n", out: "{\"a\":1}\r\n"},
		{name: "no final newline", in: "{\"a\":1}\n{\"b\":2}", out: "{\"a\":1}\n{\"b\":2}\n"},
		{name: "junk at eof", in: "{\"a\":1}\njunk at end", out: "{\"a\":1}\n", notes: []string{"diverted): junk at end"}},
		{name: "junk then json at eof", in: "junk\n{\"b\":2}", out: "{\"b\":2}\n", notes: []string{"junk"}},
		{name: "big line", in: "{\"big\":\"" + big + "\"}\nx\n[1]\n", out: "{\"big\":\"" + big + "\"}\n[1]\n", notes: []string{"diverted): x"}},
		{name: "long junk", in: strings.Repeat("j", 10000) + "\n[1]\n", out: "[1]\n", notes: []string{"…[5904 more bytes]"}},
		{
			name:  "oversized response, id first",
			in:    `{"jsonrpc":"2.0","id":7,"result":{"t":"` + pad + `"}}` + "\n[1]\n",
			limit: 100,
			out:   `{"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"mcpgw: the server's response (339 bytes) exceeds the 100-byte message limit and was discarded"}}` + "\n[1]\n",
			notes: []string{"342 bytes discarded", "answered request 7"},
		},
		{
			name:  "oversized response, id last",
			in:    "[0]\n" + `{"result":{"t":"` + pad + `"},"jsonrpc":"2.0","id":"a\"b"}` + "\n[1]\n",
			limit: 100,
			out:   "[0]\n" + `{"jsonrpc":"2.0","id":"a\"b","error":{"code":-32603,"message":"mcpgw: the server's response (347 bytes) exceeds the 100-byte message limit and was discarded"}}` + "\n[1]\n",
			notes: []string{"answered request \"a\\\"b\""},
		},
		{
			name:  "oversized response at eof",
			in:    `{"id":1,"result":"` + pad + `"}`,
			limit: 100,
			out:   `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"mcpgw: the server's response (320 bytes) exceeds the 100-byte message limit and was discarded"}}` + "\n",
		},
		{
			name:  "oversized request",
			in:    `{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{"t":"` + pad + `"}}` + "\n[1]\n",
			limit: 100,
			out:   "[1]\n",
			notes: []string{"discarded"},
		},
		{
			name:  "oversized notification",
			in:    `{"jsonrpc":"2.0","method":"x","params":{"t":"` + pad + `","id":3}}` + "\n[1]\n",
			limit: 100,
			out:   "[1]\n",
			notes: []string{"discarded"},
		},
		{
			name:  "nested id is not the id",
			in:    `{"result":{"t":"` + pad + `","id":3},"jsonrpc":"2.0"}` + "\n",
			limit: 100,
			out:   "",
		},
	}
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
		"dataerr": iotest.DataErrReader,
	}
	for _, c := range cases {
		for wname, wrap := range wraps {
			for _, chunk := range []int{1, 7, 4096, 1 << 20} {
				if wname == "onebyte" && len(c.in) > 100000 && chunk < 4096 {
					continue
				}
				out, notes := filterAll(t, c.in, c.limit, chunk, wrap)
				if normBytes(out) != normBytes(c.out) {
					t.Errorf("%s/%s/%d: out = %.300q\nwant %.300q", c.name, wname, chunk, out, c.out)
				}
				all := strings.Join(notes, "\n")
				for _, n := range c.notes {
					i := strings.Index(all, n)
					if i < 0 {
						t.Errorf("%s/%s/%d: notes lack %q: %q", c.name, wname, chunk, n, notes)
						break
					}
					all = all[i+len(n):]
				}
			}
		}
	}
}

var bytesRE = regexp.MustCompile(`\(\d+ bytes\)`)

func normBytes(s string) string { return bytesRE.ReplaceAllString(s, "(N bytes)") }

// genLines yields n bytes of 'a' after head and before tail, without holding
// them in memory.
type genLines struct {
	head, tail []byte
	n          int
}

func (g *genLines) Read(p []byte) (int, error) {
	switch {
	case len(g.head) > 0:
		n := copy(p, g.head)
		g.head = g.head[n:]
		return n, nil
	case g.n > 0:
		n := min(len(p), g.n)
		for i := range p[:n] {
			p[i] = 'a'
		}
		g.n -= n
		return n, nil
	case len(g.tail) > 0:
		n := copy(p, g.tail)
		g.tail = g.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

func TestProcFilterDiscardsWhileStreaming(t *testing.T) {
	const limit = 1 << 20
	g := &genLines{head: []byte(`{"jsonrpc":"2.0","id":9,"result":{"t":"`), n: 50 << 20, tail: []byte("\"}}\n[1]\n")}
	f := newStdoutFilter(g, limit, nil)
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(`{"jsonrpc":"2.0","id":9,"error":`)) || !bytes.HasSuffix(out, []byte("}}\n[1]\n")) {
		t.Fatalf("out = %q", out)
	}
	if c := cap(f.buf); c > 2*limit+filterBuf {
		t.Fatalf("buffer grew to %d bytes for a %d-byte limit", c, limit)
	}
	var v []any
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var x any
		if err := json.Unmarshal(l, &x); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		v = append(v, x)
	}
}

func TestProcResponseID(t *testing.T) {
	cases := []struct {
		head, tail string
		id         string
	}{
		{`{"jsonrpc":"2.0","id":12,"result":{"a":`, ``, `12`},
		{`{"result":{"a":"`, `xx"},"jsonrpc":"2.0","id":12}`, `12`},
		{`{"result":{"a":"`, `xx"},"id":"q","jsonrpc":"2.0"}`, `"q"`},
		{`{"error":{"code":1,"message":"`, `"},"id":-3}`, `-3`},
		{`{"result":{"a":"`, `xx"}},"id":3}}`, ``},             // two braces: nested
		{`{"result":{"a":"`, `xx \"id\":3}`, ``},               // inside a string
		{`{"method":"x","id":1,"params":{"`, `"},"id":1}`, ``}, // a request
		{`{"result":1`, `,"id":null}`, ``},
	}
	for _, c := range cases {
		id, ok := responseID([]byte(c.head), []byte(c.tail))
		if string(id) != c.id || ok != (c.id != "") {
			t.Errorf("%s…%s: id %q %v, want %q", c.head, c.tail, id, ok, c.id)
		}
	}
}

func benchStream(lines, size int) []byte {
	var b bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"result":{"content":[{"type":"text","text":"%s"}]}}`+"\n", i, strings.Repeat("x", size))
	}
	return b.Bytes()
}

// BenchmarkProcFilter compares reading a stream of JSON-RPC lines through
// the filter with reading it directly, with 32 KiB reads and with a
// json.Decoder as go-sdk uses.
func BenchmarkProcFilter(b *testing.B) {
	for _, size := range []int{100, 1000, 100000} {
		lines := max(1, (4<<20)/size)
		data := benchStream(lines, size)
		for _, mode := range []string{"plain", "filter"} {
			reader := func() io.Reader {
				r := io.Reader(bytes.NewReader(data))
				if mode == "filter" {
					r = newStdoutFilter(r, 0, nil)
				}
				return r
			}
			b.Run(fmt.Sprintf("read/%dB/%s", size, mode), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				buf := make([]byte, 32<<10)
				for b.Loop() {
					r := reader()
					for {
						if _, err := r.Read(buf); err != nil {
							break
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/msg")
			})
			b.Run(fmt.Sprintf("decode/%dB/%s", size, mode), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					dec := json.NewDecoder(reader())
					for {
						var m json.RawMessage
						if dec.Decode(&m) != nil {
							break
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/msg")
			})
		}
	}
}
