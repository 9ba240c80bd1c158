package mux

import (
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
