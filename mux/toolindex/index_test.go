package toolindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"getTinyImage":        "get tiny image",
		"memory__read_graph":  "memory read graph",
		"HTTPServer":          "http server",
		"list-allowed-dirs":   "list allowed dirs",
		"echo2Times":          "echo2 times",
		"What's in my files?": "what s in my files",
	} {
		if got := Words(in); got != want {
			t.Errorf("Words(%q) = %q; want %q", in, got, want)
		}
	}
}

func docs() []Doc {
	return []Doc{
		{Name: "fs__read_text_file", Server: "fs", Description: "Read the complete contents of a file from the file system as text.", Params: []string{"path", "head", "tail"}, Version: "1"},
		{Name: "fs__list_directory", Server: "fs", Description: "Get a detailed listing of all files and directories in a specified path.", Params: []string{"path"}, Version: "1"},
		{Name: "memory__create_entities", Server: "memory", Description: "Create multiple new entities in the knowledge graph", Params: []string{"entities"}, Version: "1"},
		{Name: "everything__getTinyImage", Server: "everything", Description: "Returns a tiny image", Version: "1"},
	}
}

func TestSearchRanksAndFilters(t *testing.T) {
	ix, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Sync(docs()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hits, err := ix.Search(ctx, "show me the files in a directory", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Name != "fs__list_directory" {
		t.Fatalf("hits = %+v; want fs__list_directory first", hits)
	}
	if hits[0].Server != "fs" || hits[0].Score <= 0 {
		t.Errorf("hit = %+v; want server fs and a positive score", hits[0])
	}
	// camelCase names are searchable by their words.
	hits, _ = ix.Search(ctx, "tiny image", 3, nil)
	if len(hits) == 0 || hits[0].Name != "everything__getTinyImage" {
		t.Errorf("tiny image: hits = %+v", hits)
	}
	// A tool the filter refuses is never a result, and the next one moves up.
	hits, _ = ix.Search(ctx, "show me the files in a directory", 3, func(n string) bool { return n != "fs__list_directory" })
	for _, h := range hits {
		if h.Name == "fs__list_directory" {
			t.Errorf("filtered tool returned: %+v", hits)
		}
	}
	// FTS5 syntax in a query is just words.
	if _, err := ix.Search(ctx, `"read" AND NOT (file* OR NEAR(x y)) :^`, 3, nil); err != nil {
		t.Errorf("query with FTS5 syntax: %v", err)
	}
	if hits, _ := ix.Search(ctx, "the of a", 3, nil); len(hits) != 0 {
		t.Errorf("stop words only: %+v; want none", hits)
	}
}

func TestSyncFollowsChanges(t *testing.T) {
	ix, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	d := docs()
	ix.Sync(d)
	// One removed, one changed.
	d = slices.Delete(d, 3, 4)
	d[2].Description, d[2].Version = "Forget everything about a person", "2"
	if err := ix.Sync(d); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 3 {
		t.Errorf("Len = %d; want 3", ix.Len())
	}
	if hits, _ := ix.Search(ctx, "tiny image", 3, nil); len(hits) != 0 {
		t.Errorf("removed tool still found: %+v", hits)
	}
	if hits, _ := ix.Search(ctx, "knowledge graph", 3, nil); len(hits) != 0 {
		t.Errorf("old description still found: %+v", hits)
	}
	if hits, _ := ix.Search(ctx, "forget a person", 3, nil); len(hits) != 1 || hits[0].Name != "memory__create_entities" {
		t.Errorf("new description not found: %+v", hits)
	}
}

// syntheticCatalog is n tools made of a fixed vocabulary, seeded, so every
// run searches the same catalog.
func syntheticCatalog(n int) []Doc {
	verbs := strings.Fields("get list create update delete search read write move copy run send fetch sync export import archive restore approve merge")
	nouns := strings.Fields("file directory issue pull_request comment user team project table row query message channel invoice customer order payment page document image event calendar ticket build deployment secret branch commit release")
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Doc, n)
	for i := range out {
		v, o, o2 := verbs[r.IntN(len(verbs))], nouns[r.IntN(len(nouns))], nouns[r.IntN(len(nouns))]
		server := fmt.Sprintf("srv%02d", i%40)
		out[i] = Doc{
			Name:        fmt.Sprintf("%s__%s_%s_%d", server, v, o, i),
			Server:      server,
			Description: fmt.Sprintf("%s a %s of the %s, with its %s and %s details.", v, strings.ReplaceAll(o, "_", " "), strings.ReplaceAll(o2, "_", " "), nouns[r.IntN(len(nouns))], nouns[r.IntN(len(nouns))]),
			Params:      []string{o + "_id", "limit", nouns[r.IntN(len(nouns))]},
			Version:     "1",
		}
	}
	return out
}

// BenchmarkSearch1000 searches a 1,000-tool catalog with natural-language
// queries and reports the p99 latency of one search (target: ≤ 5 ms) and,
// on Linux, the p99 of the CPU time one search takes, which does not
// depend on what else the machine runs.
func BenchmarkSearch1000(b *testing.B) {
	ix, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Sync(syntheticCatalog(1000)); err != nil {
		b.Fatal(err)
	}
	queries := []string{
		"create a new issue in the project", "delete the old files in a directory", "send a message to the team channel",
		"export all invoices of a customer", "find the pull request comments", "restore an archived document",
		"list every deployment of a build", "update the calendar event", "search tickets by user", "read a secret",
	}
	ctx := context.Background()
	keep := func(string) bool { return true }
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0, measured := threadCPU()
		start := time.Now()
		if _, err := ix.Search(ctx, queries[i%len(queries)], 10, keep); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if c1, _ := threadCPU(); measured {
			cpu = append(cpu, c1-c0)
		}
	}
	b.StopTimer()
	b.ReportMetric(p99(lat), "p99-ms")
	if len(cpu) > 0 {
		b.ReportMetric(p99(cpu), "p99-cpu-ms")
	}
}

// p99 is the 99th percentile of d, in milliseconds.
func p99(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)*99/100].Microseconds()) / 1000
}
