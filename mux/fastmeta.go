package mux

import (
	"bytes"
	"strings"
	"unicode/utf8"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/internal/jsonscan"
)

// stdioCallParams is what the stdio fast path decodes of a tools/call.
type stdioCallParams = callParams[relayedMeta]

// relayedMeta is a request's _meta as the stdio fast path uses it: what
// goes on to the server (see downstreamMeta), the log level, and the
// protocol version. The other io.modelcontextprotocol/ keys, the client's
// info and capabilities a 2026-07-28 agent sends with every request, are
// dropped on the way to the server and known from its session, so they
// are not decoded: decoding them into maps was the most of what the fast
// path spent on a 2026-07-28 call's envelope.
type relayedMeta mcp.Meta

// UnmarshalJSON decodes the keys relayedMeta keeps. It walks the object's
// members in place rather than through a map of them: that map, built and
// thrown away on every 2026-07-28 call, was the fast path's largest
// allocation. An object it does not follow (an escaped key) takes the
// decoder's way.
func (m *relayedMeta) UnmarshalJSON(b []byte) error {
	out := relayedMeta{}
	ok := eachMember(b, func(key, value []byte) bool {
		if !keepMeta(string(key)) {
			return true
		}
		var x any
		if _, err := segjson.Parse(value, &x, 0); err != nil {
			return false
		}
		out[string(key)] = x
		return true
	})
	if !ok {
		return m.decode(b)
	}
	*m = out
	return nil
}

// keepMeta reports whether relayedMeta keeps the _meta key k.
func keepMeta(k string) bool {
	return !strings.HasPrefix(k, "io.modelcontextprotocol/") || k == metaLogLevelKey || k == mcp.MetaKeyProtocolVersion
}

// decode is UnmarshalJSON through a map of the members.
func (m *relayedMeta) decode(b []byte) error {
	var raw map[string]segjson.RawMessage
	if _, err := segjson.Parse(b, &raw, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return err
	}
	out := make(relayedMeta, len(raw))
	for k, v := range raw {
		if !keepMeta(k) {
			continue
		}
		var x any
		if _, err := segjson.Parse(v, &x, 0); err != nil {
			return err
		}
		out[k] = x
	}
	*m = out
	return nil
}

// eachMember calls f with each member of the JSON object b, its key
// unquoted and its value as written, until f returns false. It reports
// false when it stopped early or cannot follow b: not an object, a key
// with an escape or bytes that are not UTF-8, or JSON it cannot walk. b is
// trusted to be valid JSON (the decoder checked it); values are not
// checked.
func eachMember(b []byte, f func(key, value []byte) bool) bool {
	s := jsonscan.Scanner{B: b}
	s.WS()
	if !s.Eat('{') {
		return false
	}
	s.WS()
	if s.Eat('}') {
		return true
	}
	for {
		k, ok := s.Str()
		if !ok {
			return false
		}
		key := k[1 : len(k)-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return false // the decoder unescapes, and replaces what is not UTF-8
		}
		s.WS()
		if !s.Eat(':') {
			return false
		}
		s.WS()
		start := s.I
		if !s.Value() || !f(key, b[start:s.I]) {
			return false
		}
		s.WS()
		if s.Eat('}') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
		s.WS()
	}
}
