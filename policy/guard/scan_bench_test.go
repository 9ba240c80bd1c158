package guard_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/mcpgw/mcpgw/policy/guard"
)

// cleanJSON is a tool result as a server would send it: source code, prose
// and a JSON document from the clean corpus, as text content, plus the
// JSON document as structured content.
func cleanJSON(b *testing.B) []byte {
	b.Helper()
	dir := filepath.Join("..", "..", "testdata", "guard", "clean")
	var content []map[string]any
	var structured any
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		content = append(content, map[string]any{"type": "text", "text": string(data)})
		if strings.HasSuffix(e.Name(), ".json") {
			json.Unmarshal(data, &structured)
		}
	}
	out, _ := json.Marshal(map[string]any{"content": content, "structuredContent": structured})
	return out
}

// dataJSON is a tool result of structured data: the clean corpus's JSON
// document as structured content, and as text, as servers send both.
func dataJSON(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guard", "clean", "package-lock.json"))
	if err != nil {
		b.Fatal(err)
	}
	var structured any
	json.Unmarshal(data, &structured)
	out, _ := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": string(data)}}, "structuredContent": structured})
	return out
}

// BenchmarkScanCleanJSON is the scanner's throughput (MB/s) over clean
// tool results, structured data and a mix of source code, prose and JSON,
// with the default detectors (secrets) and with every PII type as well,
// against two baselines measured in the same run over the same bytes:
// json.Valid (a pass that only reads them) and gitleaks' own detector
// (over the payload as one text). Target: ≥ 100 MB/s for the default.
func BenchmarkScanCleanJSON(b *testing.B) {
	secrets := defaultSecrets(b)
	for _, payload := range []struct {
		name string
		data []byte
	}{{"data", dataJSON(b)}, {"mixed", cleanJSON(b)}} {
		data := payload.data
		var base, leaks float64
		b.Run(payload.name+"/json.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				json.Valid(data)
			}
			base = float64(b.Elapsed()) / float64(b.N)
		})
		b.Run(payload.name+"/gitleaks-detector", func(b *testing.B) {
			d := detect.NewDetector(guard.GitleaksConfig(rules))
			s := string(data)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				d.DetectString(s)
			}
			leaks = float64(b.Elapsed()) / float64(b.N)
		})
		for _, tc := range []struct {
			name string
			dets []guard.Detector
		}{
			{"secrets", []guard.Detector{secrets}},
			{"secrets+pii", []guard.Detector{secrets, guard.NewPII(nil)}},
		} {
			b.Run(payload.name+"/"+tc.name, func(b *testing.B) {
				s := &guard.Scanner{}
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if sc := s.Scan(context.Background(), data, "$.result", tc.dets, nil); tc.name == "secrets" && len(sc.Findings) > 1 {
						b.Fatalf("findings in clean JSON: %+v", sc.Findings)
					}
				}
				per := float64(b.Elapsed()) / float64(b.N)
				b.ReportMetric(per/base, "x-json.Valid")
				b.ReportMetric(per/leaks, "x-gitleaks")
			})
		}
	}
}

// BenchmarkScan16KiBArgument is the time guard-in adds to a call with a
// 16 KiB argument (source code): p50 and p99 over the calls, in µs, and
// the p99 against a json.Valid pass over the same arguments. Target: p99 ≤
// 1 ms.
func BenchmarkScan16KiBArgument(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guard", "clean", "lib.js.txt"))
	if err != nil {
		b.Fatal(err)
	}
	args, _ := json.Marshal(map[string]any{"path": "/src/lib.js", "content": string(src[:16<<10])})
	secrets := defaultSecrets(b)
	var base time.Duration
	b.Run("json.Valid", func(b *testing.B) {
		base = percentile(b, func() { json.Valid(args) }, 0.99)
	})
	b.Run("guard-in", func(b *testing.B) {
		s := &guard.Scanner{}
		dets := []guard.Detector{secrets}
		p99 := percentile(b, func() { s.Scan(context.Background(), args, "$.arguments", dets, nil) }, 0.99)
		b.ReportMetric(float64(p99.Nanoseconds())/1e3, "p99-µs")
		b.ReportMetric(float64(p99)/float64(base), "x-json.Valid-p99")
	})
}

// percentile times f b.N times and returns the p-th percentile.
func percentile(b *testing.B, f func(), p float64) time.Duration {
	var ds []time.Duration
	for b.Loop() {
		t := time.Now()
		f()
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "p50-µs")
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}
