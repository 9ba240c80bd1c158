package mux

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRequestStateSigning(t *testing.T) {
	key := []byte("k")
	st := signState(key, "abc")
	if got, ok := verifyState(key, st); !ok || got != "abc" {
		t.Fatalf("verifyState(own) = %q, %v", got, ok)
	}
	if _, ok := verifyState([]byte("other"), st); ok {
		t.Error("state verified under another key")
	}
	if _, ok := verifyState(key, strings.Replace(st, "abc", "abd", 1)); ok {
		t.Error("tampered state verified")
	}
	if _, ok := verifyState(key, "server-state"); ok {
		t.Error("a server's own state was taken for mcpgw's")
	}
}

// TestUpgraded makes an older server's result a 2026-07-28 one by adding
// resultType (and cache fields to resources/read), and leaves what it has
// alone.
func TestUpgraded(t *testing.T) {
	for _, tc := range []struct{ method, in, want string }{
		{"prompts/get", `{"messages":[]}`, `{"resultType":"complete","messages":[]}`},
		{"completion/complete", `{}`, `{"resultType":"complete"}`},
		{"completion/complete", `{ }`, `{"resultType":"complete" }`},
		{"prompts/get", `{"resultType":"complete","x":1}`, `{"resultType":"complete","x":1}`},
		{"prompts/get", `{"a":{"resultType":"nested"},"b":true}`, `{"resultType":"complete","a":{"resultType":"nested"},"b":true}`},
		{"resources/read", `{"contents":[]}`, `{"resultType":"complete","ttlMs":0,"cacheScope":"public","contents":[]}`},
		{"resources/read", `{"contents":[],"ttlMs":5,"cacheScope":"private"}`, `{"resultType":"complete","contents":[],"ttlMs":5,"cacheScope":"private"}`},
	} {
		if got := string(upgraded(tc.method, json.RawMessage(tc.in))); got != tc.want {
			t.Errorf("upgraded(%s, %s) = %s; want %s", tc.method, tc.in, got, tc.want)
		}
	}
}
