package guard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Secrets as a user might store them: a GitHub token, an API key in the
// base64 alphabet, and a password with every character that needs care.
const (
	token  = "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
	apiKey = "sk-proj-Zx9+Yw8/Vu7=Ts6_Rq5"
	passwd = "Tr0ub4dor&3\"/<\u00fc>\U0001F600\\"
)

func newKnown(t testing.TB, kv ...string) *Known {
	t.Helper()
	k := NewKnown()
	for i := 0; i < len(kv); i += 2 {
		if !k.Add(kv[i], kv[i+1]) {
			t.Fatalf("Add(%q, %q) = false", kv[i], kv[i+1])
		}
	}
	return k
}

func threeSecrets(t testing.TB) *Known {
	return newKnown(t, "GITHUB_TOKEN", token, "API_KEY", apiKey, "DB_PASSWORD", passwd)
}

// jsonStrings returns every string and number in the JSON document b and,
// if nested, those of any string that is itself a JSON document (a tool's
// JSON dump sent as text content).
func jsonStrings(t testing.TB, b []byte, nested bool) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("decoding %q: %v", b, err)
		}
		switch v := tok.(type) {
		case string:
			out = append(out, v)
			if nested && json.Valid([]byte(v)) {
				out = append(out, jsonStrings(t, []byte(v), true)...)
			}
		case json.Number:
			out = append(out, string(v))
		}
	}
}

// The escapers must agree with the encoders they stand for. Go's are run;
// the others' output was taken from node 22 and Python 3.12.
func TestEncodersMatch(t *testing.T) {
	const s = "a\"b\\c/d<e>&f\u00e9\u2028\U0001F600\x01\x7f\t=+'`~*!() ;"
	goHTML, _ := json.Marshal(s)
	var goPlain bytes.Buffer
	enc := json.NewEncoder(&goPlain)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	unquote := func(b []byte) string { return string(bytes.TrimSpace(b)[1 : len(bytes.TrimSpace(b))-1]) }

	tests := []struct {
		encoder string
		got     string
		want    string
	}{
		{"Go json.Marshal", jsonStyles[2].escape(s), unquote(goHTML)},
		{"Go SetEscapeHTML(false)", jsonStyles[1].escape(s), unquote(goPlain.Bytes())},
		{"JSON.stringify", jsonStyles[0].escape(s), `a\"b\\c/d<e>&f` + "\u00e9\u2028\U0001F600" + `\u0001` + "\x7f" + `\t=+'` + "`~*!() ;"},
		{"Python json.dumps", jsonStyles[3].escape(s), `a\"b\\c/d<e>&f\u00e9\u2028\ud83d\ude00\u0001\u007f\t=+'` + "`~*!() ;"},
		{"encodeURIComponent", percentEncode(s, "-_.!~*'()", false), `a%22b%5Cc%2Fd%3Ce%3E%26f%C3%A9%E2%80%A8%F0%9F%98%80%01%7F%09%3D%2B'%60~*!()%20%3B`},
		{"URLSearchParams", percentEncode(s, "-_.*", true), `a%22b%5Cc%2Fd%3Ce%3E%26f%C3%A9%E2%80%A8%F0%9F%98%80%01%7F%09%3D%2B%27%60%7E*%21%28%29+%3B`},
		{"Python quote", percentEncode(s, "-_.~/", false), `a%22b%5Cc/d%3Ce%3E%26f%C3%A9%E2%80%A8%F0%9F%98%80%01%7F%09%3D%2B%27%60~%2A%21%28%29%20%3B`},
		{"Python quote_plus", url.QueryEscape(s), `a%22b%5Cc%2Fd%3Ce%3E%26f%C3%A9%E2%80%A8%F0%9F%98%80%01%7F%09%3D%2B%27%60~%2A%21%28%29+%3B`},
	}
	all := forms(s)
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: escaper gives\n%q, want\n%q", tt.encoder, tt.got, tt.want)
		}
		if !slices.Contains(all, tt.want) {
			t.Errorf("%s: forms lacks %q", tt.encoder, tt.want)
		}
	}
}

// Every base64 core of v must sit inside the encoding of v after any
// prefix, and be as long as promised.
func TestBase64Cores(t *testing.T) {
	for _, v := range []string{"12345678", token, passwd, apiKey} {
		fs := base64Forms(v)
		for _, pre := range []string{"", "u", "us", "user:", "admin:x", "abcdefgh:"} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
				blob := enc.EncodeToString([]byte(pre + v + "!?"))
				if !slices.ContainsFunc(fs, func(f string) bool { return strings.Contains(blob, f) }) {
					t.Errorf("no base64 form of %q found in %q (prefix %q)", v, blob, pre)
				}
			}
		}
		for _, f := range fs {
			if len(f) < 10 {
				t.Errorf("base64 form %q of %q is shorter than 10", f, v)
			}
		}
	}
}

func TestRedactPayloads(t *testing.T) {
	env := map[string]string{"GITHUB_TOKEN": token, "API_KEY": apiKey, "DB_PASSWORD": passwd, "HOME": "/home/u"}
	rpc := func(text string, html bool) string {
		msg := map[string]any{"jsonrpc": "2.0", "id": 1, "result": map[string]any{
			"content": []map[string]string{{"type": "text", "text": text}},
		}}
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(html)
		if err := e.Encode(msg); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	goDump := func(html bool) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(html)
		e.SetIndent("", "  ")
		e.Encode(map[string]any{"env": env})
		return b.String()
	}
	basic := func(user, secret string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
	}

	tests := []struct {
		name    string
		in      string
		secrets []string // names whose marker must appear
	}{
		{"Go env dump in a JSON-RPC line", rpc(goDump(true), true), []string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"}},
		{"Go env dump, no HTML escaping", rpc(goDump(false), false), []string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"}},
		{"Go dump of the env in a Go line", rpc(fmt.Sprint(env), true), []string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"}},
		{
			"Python json.dumps env dump in a pydantic line",
			`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"{\"env\": {\"GITHUB_TOKEN\": \"ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\", \"API_KEY\": \"sk-proj-Zx9+Yw8/Vu7=Ts6_Rq5\", \"DB_PASSWORD\": \"Tr0ub4dor&3\\\"/<\\u00fc>\\ud83d\\ude00\\\\\", \"HOME\": \"/home/u\"}}"}],"isError":false}}`,
			[]string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"},
		},
		{
			"Node JSON.stringify env dump",
			`{"jsonrpc":"2.0","id":8,"result":{"content":[{"type":"text","text":"{\n  \"env\": {\n    \"GITHUB_TOKEN\": \"ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5\",\n    \"API_KEY\": \"sk-proj-Zx9+Yw8/Vu7=Ts6_Rq5\",\n    \"DB_PASSWORD\": \"Tr0ub4dor&3\\\"/<ü>😀\\\\\"\n  }\n}"}]}}`,
			[]string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"},
		},
		{
			"PHP-style escaped slashes",
			`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"key sk-proj-Zx9+Yw8\/Vu7=Ts6_Rq5 pw Tr0ub4dor&3\"\/<\u00fc>\ud83d\ude00\\"}]}}`,
			[]string{"API_KEY", "DB_PASSWORD"},
		},
		{"stderr: Basic auth echoed", basic("admin", token), []string{"GITHUB_TOKEN"}},
		{"stderr: Basic auth, user of 1 byte", basic("x", passwd), []string{"DB_PASSWORD"}},
		{"stderr: Basic auth, user of 2 bytes", basic("xy", apiKey), []string{"API_KEY"}},
		{"Basic auth in a JSON-RPC line", rpc(basic("admin", passwd), true), []string{"DB_PASSWORD"}},
		{
			"Node: Basic auth and base64url JSON",
			`{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"basic auth: Basic YWRtaW46VHIwdWI0ZG9yJjMiLzzDvD7wn5iAXA== jwt-ish: eyJrIjoiZ2hwX2FCM2RFNWZHN2hJOWpLMWxNM25PNXBRN3JTOXRVMXZXM3hZNSJ9"}]}}`,
			[]string{"DB_PASSWORD", "GITHUB_TOKEN"},
		},
		{"stderr: Go URL with ?key=", "GET https://api.example.com/v1?key=" + url.QueryEscape(apiKey) + "&pw=" + url.QueryEscape(passwd) + ": 401", []string{"API_KEY", "DB_PASSWORD"}},
		{"stderr: Go path segment", "GET https://h/v1/" + url.PathEscape(passwd) + "/x", []string{"DB_PASSWORD"}},
		{
			"stderr: encodeURIComponent",
			`fetch failed: GET https://api.example.com/v1/items?key=sk-proj-Zx9%2BYw8%2FVu7%3DTs6_Rq5&pw=Tr0ub4dor%263%22%2F%3C%C3%BC%3E%F0%9F%98%80%5C`,
			[]string{"API_KEY", "DB_PASSWORD"},
		},
		{"stderr: lower-case percent escapes", "key=sk-proj-Zx9%2bYw8%2fVu7%3dTs6_Rq5", []string{"API_KEY"}},
		{"URL in a JSON-RPC line", rpc("see https://x/?token="+url.QueryEscape(token)+"&key="+url.QueryEscape(apiKey), true), []string{"GITHUB_TOKEN", "API_KEY"}},
		{"error message", `calling github: 401 Bad credentials for token "` + token + `"`, []string{"GITHUB_TOKEN"}},
		{"raw bytes of every secret", token + apiKey + passwd, []string{"GITHUB_TOKEN", "API_KEY", "DB_PASSWORD"}},
	}
	k := threeSecrets(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := k.Redact([]byte(tt.in))
			if !changed {
				t.Fatalf("Redact(%q) changed nothing", tt.in)
			}
			for _, name := range tt.secrets {
				if !bytes.Contains(out, []byte("[redacted:"+name+"]")) {
					t.Errorf("no [redacted:%s] in %s", name, out)
				}
			}
			for _, v := range []string{token, apiKey, passwd} {
				for _, f := range forms(v) {
					if bytes.Contains(out, []byte(f)) {
						t.Errorf("form %q of %q left in %s", f, v, out)
					}
				}
			}
			if json.Valid([]byte(tt.in)) {
				if !json.Valid(out) {
					t.Fatalf("output is not valid JSON: %s", out)
				}
				for _, s := range jsonStrings(t, out, true) {
					for _, v := range []string{token, apiKey, passwd} {
						if strings.Contains(s, v) {
							t.Errorf("decoded string %q holds %q", s, v)
						}
					}
				}
			}
			if got := k.RedactString(tt.in); got != string(out) {
				t.Errorf("RedactString = %q, Redact = %q", got, out)
			}
		})
	}
}

// Base64 redaction leaves at most the characters that are shared with the
// bytes around the secret.
func TestRedactBasicAuthExact(t *testing.T) {
	k := threeSecrets(t)
	re := regexp.MustCompile(`^Authorization: Basic [A-Za-z0-9+/]{0,8}\[redacted:GITHUB_TOKEN\][A-Za-z0-9+/]{0,2}=*$`)
	for _, user := range []string{"", "a", "ab", "abc", "user", "admin"} {
		in := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
		if got := k.RedactString(in); !re.MatchString(got) {
			t.Errorf("user %q: got %q", user, got)
		}
	}
}

func TestRedactExact(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
		changed bool
	}{
		{"nothing", []string{"a", "abcdefgh"}, "abcdefg hgfedcba", "abcdefg hgfedcba", false},
		{"raw", []string{"a", "abcdefgh"}, "x abcdefgh y abcdefgh", "x [redacted:a] y [redacted:a]", true},
		{"adjacent", []string{"a", "abcdefgh"}, "abcdefghabcdefgh", "[redacted:a][redacted:a]", true},
		{"query", []string{"k", "a b&c=d/e+f"}, "?k=a+b%26c%3Dd%2Fe%2Bf&x=1", "?k=[redacted:k]&x=1", true},
		{
			"one value inside another",
			[]string{"inner", "INNERSECRET", "outer", "prefix-INNERSECRET-suffix"},
			"a prefix-INNERSECRET-suffix b INNERSECRET c",
			"a [redacted:outer] b [redacted:inner] c", true,
		},
		{
			"one value a prefix of another",
			[]string{"inner", "INNERSECRET", "outer", "INNERSECRET-suffix"},
			"INNERSECRET-suffix INNERSECRET-",
			"[redacted:outer] [redacted:inner]-", true,
		},
		{
			"overlapping values merge",
			[]string{"a", "AAAABBBBCCCC", "b", "CCCCDDDDEEEE"},
			"x AAAABBBBCCCCDDDDEEEE y",
			"x [redacted:a] y", true,
		},
		{"odd name", []string{`we"ird name`, "s3cr3t-value"}, "s3cr3t-value", "[redacted:we_ird_name]", true},
		{"empty name", []string{"", "s3cr3t-value"}, "s3cr3t-value", "[redacted:secret]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKnown(t, tt.secrets...)
			got, changed := k.Redact([]byte(tt.in))
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Redact(%q) (-want +got):\n%s", tt.in, diff)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
		})
	}
}

func TestShortValuesIgnored(t *testing.T) {
	k := NewKnown()
	for _, v := range []string{"", "1234", "1234567"} {
		if k.Add("pin", v) {
			t.Errorf("Add(%q) = true, want false", v)
		}
	}
	if !k.Empty() {
		t.Fatal("Empty() = false after adding only short values")
	}
	in := []byte("pin 1234567 MTIzNDU2Nw==")
	if got, changed := k.Redact(in); changed || &got[0] != &in[0] {
		t.Errorf("Redact changed %q to %q", in, got)
	}
	if !k.Add("pin", "12345678") || k.Empty() {
		t.Fatal("an 8-byte value was not added")
	}
	if got := k.RedactString("pin 12345678"); got != "pin [redacted:pin]" {
		t.Errorf("got %q", got)
	}
}

func TestAddTwiceAndRotation(t *testing.T) {
	k := newKnown(t, "tok", "first-value-1")
	m := k.m.Load()
	if !k.Add("tok", "first-value-1") {
		t.Error("adding the same value again = false")
	}
	if k.m.Load() != m {
		t.Error("adding the same value again rebuilt the matcher")
	}
	k.Add("tok", "second-value-2")
	got := k.RedactString("first-value-1 second-value-2")
	if want := "[redacted:tok] [redacted:tok]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// The same value under another name is still redacted.
	k.Add("alias", "first-value-1")
	if got := k.RedactString("first-value-1"); got != "[redacted:tok]" {
		t.Errorf("got %q", got)
	}
}

func TestZeroAndNil(t *testing.T) {
	var z Known
	var n *Known
	for _, k := range []*Known{&z, n} {
		if !k.Empty() {
			t.Error("Empty() = false")
		}
		in := []byte("abcdefgh")
		if got, changed := k.Redact(in); changed || string(got) != "abcdefgh" {
			t.Errorf("Redact = %q, %v", got, changed)
		}
		if got := k.RedactString("abcdefgh"); got != "abcdefgh" {
			t.Errorf("RedactString = %q", got)
		}
	}
}

// A match of a value's raw bytes can end inside an escape sequence; the
// document must then be redacted token by token and stay valid.
func TestRedactJSONFallback(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
		changed bool
	}{
		{
			// The raw form matches `abcdefg\` in `abcdefg\"x`, which
			// holds a quote, not the secret.
			name:    "value ending in a backslash",
			secrets: []string{"bs", `abcdefg\`},
			in:      ` {"a": "abcdefg\"x", "b": "abcdefg\\", "h": "<a&b>\u2028", "n": 1e400, "big": 123456789012345678901234567890, "a": [true, false, null, {}]}` + "\n",
			want:    ` {"a":"abcdefg\"x","b":"[redacted:bs]","h":"<a&b>\u2028","n":1e400,"big":123456789012345678901234567890,"a":[true,false,null,{}]}` + "\n",
			changed: true,
		},
		{
			name:    "value in a key",
			secrets: []string{"bs", `abcdefg\`},
			in:      `{"abcdefg\\":"abcdefg\"", "k":["x"]}`,
			want:    `{"[redacted:bs]":"abcdefg\"","k":["x"]}`,
			changed: true,
		},
		{
			name:    "value as a number",
			secrets: []string{"pin", "31415926535"},
			in:      `{"pin":31415926535,"s":"x\\31415926535\\"}`,
			want:    `{"pin":"[redacted:pin]","s":"x\\[redacted:pin]\\"}`,
			changed: true,
		},
		{
			// Only the syntax spells the value: no string holds it.
			name:    "value with a quote across tokens",
			secrets: []string{"q", `ss":1234567`},
			in:      `{"pass":12345678}`,
			want:    `{"pass":12345678}`,
			changed: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKnown(t, tt.secrets...)
			got, changed := k.Redact([]byte(tt.in))
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Redact(%s) (-want +got):\n%s", tt.in, diff)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

// Valid JSON stays valid, and no string in it holds a secret, whatever the
// secret is made of and however it was encoded.
func TestRedactKeepsJSONValid(t *testing.T) {
	values := []string{
		`abcdefg\`, `\abcdefgh`, `abc\defgh`, `abcd"efgh`, `"abcdefgh"`, `\"abcdefg`, `abc\\"def`,
		`\u0041bcdefgh`, `a/b/c/d/e/`, `<script>&amp;`, "p\u00e4ssw\u00f6rd\U0001F511", "tab\tnew\nline",
		`ss":1234567`, `,"k":"v"}`, "12345678", "1234.5678", "true,false", `{"a":12}`,
	}
	docs := func(v string) []string {
		var out []string
		for _, html := range []bool{true, false} {
			for _, x := range []any{
				v,
				map[string]any{"k": v, v: "x"},
				[]any{"pre" + v + "post", v + v, 1, nil},
			} {
				var b bytes.Buffer
				e := json.NewEncoder(&b)
				e.SetEscapeHTML(html)
				e.Encode(x)
				out = append(out, b.String())
				// The same as text content of a JSON-RPC result.
				var line bytes.Buffer
				e = json.NewEncoder(&line)
				e.SetEscapeHTML(html)
				e.Encode(map[string]any{"result": map[string]any{"content": []any{map[string]any{"type": "text", "text": b.String()}}}})
				out = append(out, line.String())
			}
		}
		return append(out,
			`["`+v+`"]`, // raw, often invalid
			`{"x":"`+strings.ReplaceAll(v, `"`, `\"`)+`"}`,
			`{"x":"`+v[:len(v)/2]+`","y":"`+v[len(v)/2:]+`"}`,
			`{"n":`+v+`}`,
			`[`+v+`]`,
		)
	}
	for _, v := range values {
		k := newKnown(t, "s", v)
		for _, doc := range docs(v) {
			if !json.Valid([]byte(doc)) {
				continue
			}
			out, _ := k.Redact([]byte(doc))
			if !json.Valid(out) {
				t.Errorf("value %q: %s became invalid: %s", v, doc, out)
				continue
			}
			for _, s := range jsonStrings(t, out, true) {
				if strings.Contains(s, v) {
					t.Errorf("value %q: %s -> %s: string %q holds it", v, doc, out, s)
				}
			}
		}
	}
}

func TestEveryFormRedacted(t *testing.T) {
	k := threeSecrets(t)
	for _, v := range []string{token, apiKey, passwd} {
		for _, f := range forms(v) {
			in := "some text " + f + " more text"
			if got := k.RedactString(in); strings.Contains(got, f) || !strings.Contains(got, "[redacted:") {
				t.Errorf("form %q of %q: got %q", f, v, got)
			}
		}
	}
}

func TestNoAllocsWhenNothingMatches(t *testing.T) {
	k := threeSecrets(t)
	line := []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"total 48\ndrwxr-xr-x  5 user staff  160 Nov 25 14:46 src\n-rw-r--r--  1 user staff 1234 README.md"}],"isError":false}}`)
	var empty Known
	tests := []struct {
		name string
		f    func()
	}{
		{"Redact", func() { k.Redact(line) }},
		{"RedactString", func() { k.RedactString("server: listening on 127.0.0.1:8080 with token from env") }},
		{"Redact empty", func() { empty.Redact(line) }},
		{"Empty", func() { k.Empty() }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", tt.name, n)
		}
	}
	if out, changed := k.Redact(line); changed || &out[0] != &line[0] {
		t.Error("Redact did not return its input")
	}
}

// Add runs while other goroutines redact; a value added before a Redact
// starts must be redacted by it.
func TestConcurrentAddRedact(t *testing.T) {
	const n = 40
	k := NewKnown()
	value := func(i int) string { return fmt.Sprintf("concurrent-secret-%03d", i) }
	var added atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			k.Add(fmt.Sprintf("s%d", i), value(i))
			added.Store(int32(i + 1))
		}
	}()
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; added.Load() < n || j < 200; j++ {
				done := int(added.Load())
				i := (j + r) % n
				in := `{"text":"env: ` + value(i) + `"}`
				out, changed := k.Redact([]byte(in))
				if i < done && (!changed || bytes.Contains(out, []byte(value(i)))) {
					t.Errorf("value %d added before Redact was not redacted: %s", i, out)
					return
				}
				_ = k.Empty()
			}
		}()
	}
	wg.Wait()
}

// FuzzRedact checks, for any input and up to two values: no raw value
// survives (unless only JSON syntax spells it, outside every string and
// number of a valid document), and valid JSON stays valid.
func FuzzRedact(f *testing.F) {
	f.Add(token, apiKey, []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"t\":\"`+token+`\"}"}]}}`))
	f.Add(`abcdefg\`, "", []byte(`{"a":"abcdefg\"x","b":"abcdefg\\"}`))
	f.Add(`pass"word1`, `pass\word2`, []byte(`["pass\"word1","pass\\word2"]`))
	f.Add("AAAABBBBCCCC", "CCCCDDDDEEEE", []byte("AAAABBBBCCCCDDDDEEEE"))
	f.Add(passwd, "", []byte(`Tr0ub4dor&3\"\/<\u00fc>\ud83d\ude00\\`))
	f.Add("12345678", "", []byte(`{"n":123456789}`))
	f.Add("user:pass1234", "", []byte("Basic "+base64.StdEncoding.EncodeToString([]byte("x:user:pass1234"))))
	f.Add(`ss":1234567`, "", []byte(`{"pass":12345678}`))
	f.Fuzz(func(t *testing.T, v1, v2 string, in []byte) {
		k := NewKnown()
		var vs []string
		for i, v := range []string{v1, v2} {
			if strings.ContainsAny(v, "[]") || strings.Contains("[redacted:s0][redacted:s1]", v) {
				continue // the marker would spell it
			}
			if k.Add(fmt.Sprintf("s%d", i), v) {
				vs = append(vs, v)
			}
		}
		out, changed := k.Redact(in)
		if changed == bytes.Equal(out, in) {
			t.Fatalf("changed = %v, but output %q vs input %q", changed, out, in)
		}
		valid := json.Valid(in)
		if valid && !json.Valid(out) {
			t.Fatalf("valid %q became invalid %q", in, out)
		}
		for _, v := range vs {
			if !bytes.Contains(out, []byte(v)) {
				continue
			}
			if !valid {
				t.Fatalf("%q survives in %q", v, out)
			}
			for _, s := range jsonStrings(t, out, false) {
				if strings.Contains(s, v) {
					t.Fatalf("%q survives in %q, in %q", v, out, s)
				}
			}
		}
	})
}
