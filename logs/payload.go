package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redactor masks secrets in text. Redact returns b with what it masks
// replaced and whether anything changed; it must not modify b and may
// return b itself. *guard.Known satisfies it.
type Redactor interface {
	Redact(b []byte) ([]byte, bool)
}

// PayloadMode says how much of a call's arguments and result the record
// keeps.
type PayloadMode string

// Payload modes. In every mode the record keeps each payload's size and
// hash, and [RecorderOptions.Redactor] masks known secrets wherever they
// appear, payloads included: a secret never reaches the file, whatever the
// mode.
const (
	// PayloadsRedacted stores payloads with secrets masked: known ones, and
	// whatever else the [RecorderOptions] Redactor finds (mcpgw's gives it
	// the guardrails' detectors). It is the default.
	PayloadsRedacted PayloadMode = "redacted"
	// PayloadsFull stores payloads masked of known secrets only, and of
	// nothing a detector merely suspects.
	PayloadsFull PayloadMode = "full"
	// PayloadsNone stores no payloads, only their sizes and hashes.
	PayloadsNone PayloadMode = "none"
)

// DefaultMaxPayloadBytes is the default cap on each stored payload.
const DefaultMaxPayloadBytes = 64 << 10

// ParsePayloadMode returns the mode s names; "" is [PayloadsRedacted].
func ParsePayloadMode(s string) (PayloadMode, error) {
	switch m := PayloadMode(s); m {
	case "":
		return PayloadsRedacted, nil
	case PayloadsRedacted, PayloadsFull, PayloadsNone:
		return m, nil
	}
	return "", fmt.Errorf("unknown payload mode %q: want full, redacted or none", s)
}

// payloadPolicy turns raw payloads into what the record stores.
type payloadPolicy struct {
	mode     PayloadMode
	max      int
	redactor Redactor
}

// apply returns the stored form of the payload b, its size and its hash.
//
// The hash is of the payload with known secrets masked, which is the
// payload itself unless it held one: a hash of the original would let
// whoever reads the file test guesses of a short secret (a password in
// {"password":"..."}) offline.
func (p *payloadPolicy) apply(b []byte) (text string, size int64, hash string) {
	if len(b) == 0 {
		return "", 0, ""
	}
	size = int64(len(b))
	b = p.redact(b)
	sum := sha256.Sum256(b)
	hash = hex.EncodeToString(sum[:])
	if p.mode == PayloadsNone {
		return "", size, hash
	}
	return capPayload(b, p.max, size), size, hash
}

// redact masks known secrets in b.
func (p *payloadPolicy) redact(b []byte) []byte {
	if p.redactor == nil {
		return b
	}
	out, _ := p.redactor.Redact(b)
	return out
}

// redactString masks known secrets in s; text fields such as Error go
// through it in every mode.
func (p *payloadPolicy) redactString(s string) string {
	if p.redactor == nil || len(s) == 0 {
		return s
	}
	out, changed := p.redactor.Redact([]byte(s))
	if !changed {
		return s
	}
	return string(out)
}

// capPayload returns b, or when it is longer than limit a prefix of it and
// a marker with the original size, in limit bytes at most (unless limit is
// shorter than the marker). It runs after redaction: cutting first could
// leave the head of a secret that the redactor no longer recognizes.
func capPayload(b []byte, limit int, size int64) string {
	if len(b) <= limit {
		return string(b)
	}
	marker := "…[truncated, " + strconv.FormatInt(size, 10) + " bytes]"
	n := max(0, limit-len(marker))
	// Cut before a rune, not inside one, so valid UTF-8 stays valid.
	for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return string(b[:n]) + marker
}

// maxToolErrorText caps the text of a tool's error kept in a call's Error.
const maxToolErrorText = 4 << 10

// toolErrorText is what a tool that returned isError said: the text of its
// result's text content, joined by newlines and capped; "" when the result
// is not a tool result with text. For a tool_error, mcpgw fails nothing
// itself, so this text is the call's error.
func toolErrorText(result []byte) string {
	if len(result) == 0 {
		return ""
	}
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if json.Unmarshal(result, &r) != nil {
		return ""
	}
	var texts []string
	for _, c := range r.Content {
		if c.Type == "text" && c.Text != "" {
			texts = append(texts, c.Text)
		}
	}
	t := strings.Join(texts, "\n")
	return capPayload([]byte(t), maxToolErrorText, int64(len(t)))
}
