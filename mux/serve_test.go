package mux

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestListenAndServeHTTPRefusesNonLoopback(t *testing.T) {
	g := New(nil)
	defer g.Close()
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8931", ":8931"} {
		err := g.ListenAndServeHTTP(context.Background(), addr, nil)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("ListenAndServeHTTP(%q) = %v, want a loopback-only error", addr, err)
		}
	}
}

func TestHTTPHandlerChecksHostAndOrigin(t *testing.T) {
	g := New(nil)
	defer g.Close()
	h := g.HTTPHandler()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name, host, origin string
		want               int
	}{
		{"loopback", "127.0.0.1:8931", "", http.StatusOK},
		{"localhost origin", "localhost:8931", "http://localhost:3000", http.StatusOK},
		{"rebound host", "evil.example:8931", "", http.StatusForbidden},
		{"foreign origin", "127.0.0.1:8931", "https://evil.example", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://"+tt.host+"/mcp", strings.NewReader(body))
			req.Host = tt.host
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:80": true, "[::1]:80": true, "localhost": true, "LOCALHOST:1": true,
		"0.0.0.0": false, "example.com": false, "10.0.0.1:80": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
