package mux

// A 2026-07-28 agent answers an input request in its retry's
// inputResponses, which the SDK decodes into its types. An answer to a
// stdio server's form elicitation (relayed as the server sent it, see
// elicitraw.go) goes back to the server as the agent sent it: mcpgw reads
// the retry's inputResponses as they came (the stdio connection's Extra,
// or the HTTP POST it read) and hands them to the retry's handler in
// inputResponsesHeader, as it names the request (cancelreason.go).

import (
	"bytes"
	"encoding/json"
	"net/http"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// inputResponsesHeader carries a tools/call's inputResponses, as the
// agent sent them, in the RequestExtra its handler gets. mcpgw sets it;
// the HTTP front removes any the agent sent.
const inputResponsesHeader = "Mcpgw-Input-Responses"

// rawInputResponses returns the inputResponses of a tools/call's params
// as they came, or nil.
func rawInputResponses(method string, params []byte) []byte {
	if method != "tools/call" || !bytes.Contains(params, []byte(`"inputResponses"`)) {
		return nil
	}
	var p struct {
		InputResponses segjson.RawMessage `json:"inputResponses"`
	}
	if _, err := segjson.Parse(params, &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil || len(p.InputResponses) == 0 || p.InputResponses[0] != '{' {
		return nil
	}
	return p.InputResponses
}

// rawAnswer is an input response with the bytes the agent sent.
type rawAnswer struct {
	mcp.InputResponse
	raw json.RawMessage
}

// withRawAnswer returns resp, the retry req's answer to input request id,
// with the bytes the agent sent, when they are known.
func withRawAnswer(req mcp.Request, id string, resp mcp.InputResponse) mcp.InputResponse {
	ex := req.GetExtra()
	if ex == nil || ex.Header == nil {
		return resp
	}
	all := ex.Header.Get(inputResponsesHeader)
	if all == "" {
		return resp
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(all), &m) != nil || m[id] == nil {
		return resp
	}
	return &rawAnswer{InputResponse: resp, raw: m[id]}
}

// setInputResponses names a tools/call's raw inputResponses in h.
func setInputResponses(h http.Header, method string, params []byte) {
	if raw := rawInputResponses(method, params); raw != nil {
		h.Set(inputResponsesHeader, string(raw))
	}
}
