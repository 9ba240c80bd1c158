package mux

import (
	"strings"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"
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

// UnmarshalJSON decodes the keys relayedMeta keeps.
func (m *relayedMeta) UnmarshalJSON(b []byte) error {
	var raw map[string]segjson.RawMessage
	if _, err := segjson.Parse(b, &raw, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return err
	}
	out := make(relayedMeta, len(raw))
	for k, v := range raw {
		if strings.HasPrefix(k, "io.modelcontextprotocol/") && k != metaLogLevelKey && k != mcp.MetaKeyProtocolVersion {
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
