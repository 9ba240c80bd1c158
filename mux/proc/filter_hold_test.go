package proc

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestProcFilterDeliversWithoutMoreInput checks that every complete line
// the child wrote is readable before the child writes anything else: a
// response held back until more output arrives stalls its call for as long
// as the server stays quiet.
func TestProcFilterDeliversWithoutMoreInput(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pr, pw := io.Pipe()
	f := newStdoutFilter(pr, 0, nil)
	br := bufio.NewReaderSize(f, 4096)
	lines := make(chan string, 1000)
	go func() {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	for round := 0; round < 3000; round++ {
		// A batch of 1-4 lines, some junk, written in random chunks.
		var batch []string
		var out strings.Builder
		for i := 0; i < 1+rng.Intn(4); i++ {
			if rng.Intn(5) == 0 {
				out.WriteString("not json\n")
			}
			l := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"x":"%s"}}`+"\n", round*10+i, strings.Repeat("y", rng.Intn(300)))
			batch = append(batch, l)
			out.WriteString(l)
		}
		data := []byte(out.String())
		for len(data) > 0 {
			n := 1 + rng.Intn(len(data))
			pw.Write(data[:n])
			data = data[n:]
		}
		for _, want := range batch {
			select {
			case got := <-lines:
				if got != want {
					t.Fatalf("round %d: got %q, want %q", round, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: line %q written but not delivered until more output arrives", round, want)
			}
		}
	}
	pw.Close()
}
