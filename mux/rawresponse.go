package mux

import (
	"encoding/json"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

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
