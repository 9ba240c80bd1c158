package mux

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// TestHTTPHandlerAuthenticates checks the Authenticate seam: a refused
// request gets 401 with a challenge that says why, an admitted caller is
// served whatever its Host (its credential admitted it), and a request the
// hook lets through without a caller keeps the loopback checks.
func TestHTTPHandlerAuthenticates(t *testing.T) {
	g := New(&Options{Authenticate: func(r *http.Request) (*Caller, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			return &Caller{ID: "tk_1", Identity: callpath.Identity{User: "ana@example.com"}}, nil
		case "":
			if r.Header.Get("X-Open") != "" {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: send a token", ErrNoCredential)
		}
		return nil, errors.New(`token "x" revoked`)
	}})
	defer g.Close()
	h := g.HTTPHandler()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name, host, auth, open string
		want                   int
		challenge              string
	}{
		{"missing", "127.0.0.1:8931", "", "", http.StatusUnauthorized, `Bearer realm="mcpgw"`},
		{"revoked", "127.0.0.1:8931", "Bearer bad", "", http.StatusUnauthorized, `Bearer realm="mcpgw", error="invalid_token", error_description="token \"x\" revoked"`},
		{"valid, remote host", "gw.example:8931", "Bearer good", "", http.StatusOK, ""},
		{"open, loopback", "127.0.0.1:8931", "", "1", http.StatusOK, ""},
		{"open, rebound host", "evil.example:8931", "", "1", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://"+tt.host+"/mcp", strings.NewReader(body))
			req.Host = tt.host
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.open != "" {
				req.Header.Set("X-Open", "1")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}
	if err := g.ListenAndServeHTTP(canceled(), "0.0.0.0:0", nil); err != nil {
		t.Errorf("with Authenticate, a non-loopback bind: %v", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
