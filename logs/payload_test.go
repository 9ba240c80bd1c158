package logs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcpgw/mcpgw/policy/guard"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPayloadModes(t *testing.T) {
	known := guard.NewKnown()
	known.Add("tok", "hunter2-hunter2")
	plain := []byte(`{"q":"select 1"}`)
	secret := []byte(`{"password":"hunter2-hunter2"}`)
	for _, tc := range []struct {
		mode           PayloadMode
		in             []byte
		want, wantHash string
	}{
		{PayloadsFull, plain, string(plain), sha(plain)},
		{PayloadsRedacted, plain, string(plain), sha(plain)},
		{PayloadsNone, plain, "", sha(plain)},
		// Known secrets are masked in every mode, full included, and the
		// hash is of the masked payload so it cannot confirm a guess.
		{PayloadsFull, secret, `{"password":"[redacted:tok]"}`, sha([]byte(`{"password":"[redacted:tok]"}`))},
		{PayloadsRedacted, secret, `{"password":"[redacted:tok]"}`, sha([]byte(`{"password":"[redacted:tok]"}`))},
		{PayloadsNone, secret, "", sha([]byte(`{"password":"[redacted:tok]"}`))},
	} {
		p := payloadPolicy{mode: tc.mode, max: DefaultMaxPayloadBytes, redactor: known}
		text, size, hash := p.apply(tc.in)
		if text != tc.want || size != int64(len(tc.in)) || hash != tc.wantHash {
			t.Errorf("%s %s: got %q, %d, %s; want %q, %d, %s", tc.mode, tc.in, text, size, hash, tc.want, len(tc.in), tc.wantHash)
		}
		if tc.mode != PayloadsNone && string(tc.in) == string(secret) && hash == sha(tc.in) {
			t.Errorf("%s: the hash is of the payload with the secret", tc.mode)
		}
	}
	// No payload: nothing at all, not the hash of nothing.
	p := payloadPolicy{mode: PayloadsFull, max: 10}
	if text, size, hash := p.apply(nil); text != "" || size != 0 || hash != "" {
		t.Errorf("apply(nil) = %q, %d, %q", text, size, hash)
	}
}

func TestPayloadCap(t *testing.T) {
	// 3-byte runes, so most cut points fall inside one.
	orig := []byte(`{"text":"` + strings.Repeat("日本語", 5000) + `"}`)
	for _, limit := range []int{100, 101, 102, 103, 1000, 4096} {
		p := payloadPolicy{mode: PayloadsFull, max: limit}
		text, size, hash := p.apply(orig)
		if size != int64(len(orig)) || hash != sha(orig) {
			t.Errorf("max %d: size, hash = %d, %s; want the original's %d, %s", limit, size, hash, len(orig), sha(orig))
		}
		marker := "…[truncated, " + strconv.Itoa(len(orig)) + " bytes]"
		prefix, ok := strings.CutSuffix(text, marker)
		if !ok {
			t.Fatalf("max %d: %q does not end with %q", limit, text, marker)
		}
		if len(text) > limit || len(text) < limit-2 {
			t.Errorf("max %d: stored %d bytes; want %d, less at most 2 for a rune boundary", limit, len(text), limit)
		}
		if !utf8.ValidString(text) || !strings.HasPrefix(string(orig), prefix) {
			t.Errorf("max %d: prefix %q is not a valid UTF-8 prefix of the payload", limit, prefix)
		}
	}
	// At the limit exactly, nothing is cut.
	p := payloadPolicy{mode: PayloadsFull, max: len(orig)}
	if text, _, _ := p.apply(orig); text != string(orig) {
		t.Errorf("a payload of exactly max bytes was changed")
	}
	// A limit shorter than the marker keeps the marker alone.
	p.max = 5
	if text, _, _ := p.apply(orig); !strings.HasPrefix(text, "…[truncated") {
		t.Errorf("max 5: %q", text)
	}
}

func TestParsePayloadMode(t *testing.T) {
	for in, want := range map[string]PayloadMode{"": PayloadsRedacted, "full": PayloadsFull, "redacted": PayloadsRedacted, "none": PayloadsNone} {
		if got, err := ParsePayloadMode(in); got != want || err != nil {
			t.Errorf("ParsePayloadMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePayloadMode("all"); err == nil || !strings.Contains(err.Error(), "full, redacted or none") {
		t.Errorf("ParsePayloadMode(all): %v", err)
	}
}

// TestSecretsNeverReachTheFile records calls full of a known secret, in
// every form a server might send it back in, and greps the database's
// files for it.
func TestSecretsNeverReachTheFile(t *testing.T) {
	const secret = `Sup3r"S3cret/Tok\en-42`
	jsonEsc := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + secret))
	forms := map[string]string{
		"raw":              secret,
		"core":             "S3cret/Tok", // a piece is a leak too
		"JSON-escaped":     jsonEsc(secret),
		"escaped twice":    jsonEsc(jsonEsc(secret)),
		"base64":           base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64url":        base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"in a base64 blob": basic[8 : len(basic)-4],
		"URL-encoded":      url.QueryEscape(secret),
	}
	// On the wire: as is, escaped once (a JSON string) and twice (a JSON
	// dump in a string), base64, in a Basic auth blob, URL-encoded.
	// guard.Known promises no deeper escaping than that.
	args, _ := json.Marshal(map[string]any{
		"token": secret, "auth": "Basic " + basic, "url": "https://api.example/?key=" + url.QueryEscape(secret),
		"b64": base64.StdEncoding.EncodeToString([]byte(secret)), "dump": `{"token":"` + jsonEsc(secret) + `"}`,
	})
	text, _ := json.Marshal(map[string]string{"token": secret, "auth": "Basic " + basic})
	result, _ := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": string(text)}}})
	entry := func() Entry {
		return Entry{
			Call: Call{Method: "resources/read", Server: "fx", Tool: "https://api.example/?key=" + secret,
				Status: StatusError, Error: "401 for token " + secret, Reason: "saw " + base64.StdEncoding.EncodeToString([]byte(secret)),
				Roles: []string{"dev", secret}},
			Args: bytes.Clone(args), Result: bytes.Clone(result),
		}
	}
	leaks := func(t *testing.T, path string) []string {
		var found []string
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(path + suffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, f := range forms {
				if bytes.Contains(b, []byte(f)) {
					found = append(found, name+" in mcpgw.db"+suffix)
				}
			}
		}
		return found
	}
	record := func(t *testing.T, mode PayloadMode, red Redactor) *DB {
		db := openTemp(t, nil)
		r := NewRecorder(db, &RecorderOptions{Payloads: mode, Redactor: red, MaxPayloadBytes: 2048})
		for range 3 {
			r.Record(entry())
		}
		// Capped where the secret starts: masking must come before the
		// cut, or the secret's head would survive it.
		big := entry()
		big.Args = fmt.Appendf(bytes.Repeat([]byte(" "), 2000), "%q%s", secret, bytes.Repeat([]byte(" "), 100))
		r.Record(big)
		if err := r.RecordSync(context.Background(), entry()); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n int
		db.sql.QueryRow("SELECT count(*) FROM calls WHERE error LIKE '401 for token %'").Scan(&n)
		if n != 5 {
			t.Fatalf("%d rows with the error recorded; want 5", n)
		}
		if mode != PayloadsNone {
			db.sql.QueryRow("SELECT count(*) FROM calls WHERE args LIKE '%…[truncated, 2126 bytes]'").Scan(&n)
			if n != 1 {
				t.Fatalf("%d rows with capped arguments; want 1", n)
			}
		}
		return db
	}
	// check greps the files while db is open (the rows are in the WAL),
	// and after it is closed: the last connection checkpoints the WAL into
	// the database file.
	check := func(t *testing.T, db *DB) (open, closed []string) {
		open = leaks(t, db.Path())
		if fi, err := os.Stat(db.Path() + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("no WAL to grep: %v", err)
		}
		db.Close()
		if _, err := os.Stat(db.Path() + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the WAL is still there after the last close: %v", err)
		}
		return open, leaks(t, db.Path())
	}

	known := guard.NewKnown()
	if !known.Add("api-token", secret) {
		t.Fatal("Add refused the secret")
	}
	for _, mode := range []PayloadMode{PayloadsFull, PayloadsRedacted, PayloadsNone} {
		t.Run(string(mode), func(t *testing.T) {
			open, closed := check(t, record(t, mode, known))
			if len(open) > 0 || len(closed) > 0 {
				t.Errorf("secret found while open: %v; after close: %v", open, closed)
			}
		})
	}
	// Without the redactor the secret is there: the grep works.
	t.Run("control", func(t *testing.T) {
		open, closed := check(t, record(t, PayloadsFull, nil))
		for name := range forms {
			for _, found := range [][]string{open, closed} {
				if !slices.ContainsFunc(found, func(s string) bool { return strings.HasPrefix(s, name+" in") }) {
					t.Errorf("without a redactor, %s was not found: grepping misses it (found %v)", name, found)
				}
			}
		}
	})
}
