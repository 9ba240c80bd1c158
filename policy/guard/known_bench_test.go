package guard

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchInputs are JSON-RPC lines a server sends: a short answer, a 1 MiB
// text result and a 1 MiB image (base64, the worst case for the base64
// forms).
func benchInputs() []struct {
	name string
	b    []byte
} {
	line := `{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"total 48\ndrwxr-xr-x  5 user staff  160 Nov 25 14:46 src\n-rw-r--r--  1 user staff 1234 README.md"}],"isError":false}}`
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over lazy dog error warning file path user config server token request response json value name type id content text result data password key secret")
	var text strings.Builder
	text.WriteString(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"`)
	for text.Len() < 1<<20 {
		text.WriteString(words[r.IntN(len(words))])
		if r.IntN(10) == 0 {
			text.WriteString(`\n`)
		} else {
			text.WriteByte(' ')
		}
	}
	text.WriteString(`"}]}}`)
	blob := make([]byte, 3<<18)
	for i := range blob {
		blob[i] = byte(r.Uint32())
	}
	image := `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"image","mimeType":"image/png","data":"` + base64.StdEncoding.EncodeToString(blob) + `"}]}}`
	return []struct {
		name string
		b    []byte
	}{
		{"line200", []byte(line)},
		{"text1MiB", []byte(text.String())},
		{"image1MiB", []byte(image)},
	}
}

func manySecrets(tb testing.TB, n int) *Known {
	k := threeSecrets(tb)
	for i := 3; i < n; i++ {
		k.Add(fmt.Sprintf("S%d", i), fmt.Sprintf("xoxb-%d-Abc/def+ghi=jkl%03d", i*7919, i))
	}
	return k
}

func BenchmarkRedact(b *testing.B) {
	inputs := benchInputs()
	for _, n := range []int{0, 3, 20} {
		k := manySecrets(b, n)
		if n == 0 {
			k = NewKnown()
		}
		for _, in := range inputs {
			b.Run(fmt.Sprintf("secrets=%d/nomatch/%s", n, in.name), func(b *testing.B) {
				if _, changed := k.Redact(in.b); changed {
					b.Fatal("matched")
				}
				b.SetBytes(int64(len(in.b)))
				b.ReportAllocs()
				for b.Loop() {
					k.Redact(in.b)
				}
			})
		}
	}
	k := threeSecrets(b)
	match := []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"GITHUB_TOKEN=` + token + `\nHOME=/home/u"}],"isError":false}}`)
	b.Run("secrets=3/match/line200", func(b *testing.B) {
		b.SetBytes(int64(len(match)))
		b.ReportAllocs()
		for b.Loop() {
			k.Redact(match)
		}
	})
	fallback := []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"a abcdefg\"x b abcdefg\\"}],"isError":false}}`)
	k.Add("bs", `abcdefg\`)
	b.Run("secrets=4/fallback/line200", func(b *testing.B) {
		b.SetBytes(int64(len(fallback)))
		b.ReportAllocs()
		for b.Loop() {
			k.Redact(fallback)
		}
	})
}

func BenchmarkEmpty(b *testing.B) {
	k := threeSecrets(b)
	for b.Loop() {
		k.Empty()
	}
}

func BenchmarkAdd(b *testing.B) {
	for b.Loop() {
		manySecrets(b, 20)
	}
}
