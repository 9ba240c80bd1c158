package mux

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// encodeID is a request id (as decoded: a number or a string) encoded
// again. Whole numbers, what agents use, skip encoding/json's reflection;
// everything else is encoded by it, so the bytes are the same either way.
func encodeID(id any) []byte {
	if f, ok := id.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 && !math.Signbit(f) {
		return strconv.AppendInt(make([]byte, 0, 8), int64(f), 10)
	}
	b, _ := json.Marshal(id)
	return b
}

// resultResponse is the JSON-RPC response to the request whose id is idJSON,
// carrying result as it is: the raw paths answer with a server's bytes.
func resultResponse(idJSON, result []byte) []byte {
	b := make([]byte, 0, len(result)+len(idJSON)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}

// errorResponse is the JSON-RPC error response to the request whose id is
// idJSON: a [jsonrpc.Error] as it is, any other error as an internal one.
func errorResponse(idJSON []byte, err error) []byte {
	var jerr *jsonrpc.Error
	if !errors.As(err, &jerr) {
		jerr = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
	}
	e, _ := json.Marshal(jerr)
	b := make([]byte, 0, len(e)+len(idJSON)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"error":`...)
	b = append(b, e...)
	return append(b, '}')
}

// toolResponse is the JSON-RPC response to a tools/call whose id is idJSON:
// the server's result as it sent it, or the one mcpgw made, encoded as the
// SDK would; v2026: the agent speaks 2026-07-28, whose results say their
// resultType.
func toolResponse(idJSON []byte, out outcome, v2026 bool) []byte {
	if out.err != nil {
		return errorResponse(idJSON, out.err)
	}
	raw := out.raw
	if raw == nil {
		res, _ := out.res.(*mcp.CallToolResult)
		if res != nil && res.Content == nil {
			res.Content = []mcp.Content{}
		}
		var err error
		if raw, err = json.Marshal(res); err != nil {
			raw = fmt.Appendf(nil, `{"content":[{"type":"text","text":%q}],"isError":true}`, "mcpgw: encoding the result: "+err.Error())
		}
		if v2026 {
			// A result mcpgw made itself (a refusal, a timeout): the
			// server's own results have theirs.
			raw = upgraded("tools/call", raw)
		}
	}
	return resultResponse(idJSON, raw)
}
