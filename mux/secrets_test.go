package mux

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/keystore/keystoretest"
)

func TestResolveSpec(t *testing.T) {
	store := keystoretest.New(map[string]string{"tok": "s3cr3t-value", "short": "abc"})
	g := New(&Options{Secrets: store})
	spec := ServerSpec{
		Name:    "gh",
		Command: "gh-mcp",
		Args:    []string{"--token=${secret:tok}", "$${secret:tok}", "plain"},
		Env:     map[string]string{"A": "${secret:tok}", "B": "x${secret:short}y"},
		URL:     "https://h/mcp?k=${secret:tok}",
		Headers: map[string]string{"Authorization": "Bearer ${secret:tok}"},
	}
	got, err := g.resolveSpec(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	want := spec
	want.Args = []string{"--token=s3cr3t-value", "${secret:tok}", "plain"}
	want.Env = map[string]string{"A": "s3cr3t-value", "B": "xabcy"}
	want.URL = "https://h/mcp?k=s3cr3t-value"
	want.Headers = map[string]string{"Authorization": "Bearer s3cr3t-value"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolved spec (-want +got):\n%s", diff)
	}
	if spec.Args[0] != "--token=${secret:tok}" || spec.Env["A"] != "${secret:tok}" {
		t.Error("resolving changed the spec it was given")
	}
	// Resolved values are redacted from then on (short ones cannot be).
	if r := g.secrets.RedactString("got s3cr3t-value and abc"); r != "got [redacted:tok] and abc" {
		t.Errorf("redacted = %q", r)
	}
	if err := g.redactErr(errors.New(`Post "https://h/mcp?k=s3cr3t-value": refused`)); err.Error() != `Post "https://h/mcp?k=[redacted:tok]": refused` {
		t.Errorf("redactErr = %v", err)
	}
}

func TestResolveSpecFailures(t *testing.T) {
	spec := ServerSpec{Name: "a", Command: "x", Env: map[string]string{"T": "${secret:missing}"}}
	_, err := New(&Options{Secrets: keystoretest.New(nil)}).resolveSpec(context.Background(), spec)
	if !errors.Is(err, keystore.ErrNotFound) || !strings.Contains(err.Error(), "mcpgw secret set missing") {
		t.Errorf("missing secret: %v", err)
	}
	_, err = New(nil).resolveSpec(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "no keystore") {
		t.Errorf("no keystore: %v", err)
	}
	broken := keystoretest.New(nil)
	broken.Err = &keystore.UnavailableError{Err: errors.New("no bus")}
	_, err = New(&Options{Secrets: broken}).resolveSpec(context.Background(), spec)
	var ue *keystore.UnavailableError
	if !errors.As(err, &ue) {
		t.Errorf("unavailable keychain: %v", err)
	}
	// A spec without references never touches the keystore.
	plain := ServerSpec{Name: "p", Command: "x", Env: map[string]string{"T": "v"}}
	if got, err := New(&Options{Secrets: broken}).resolveSpec(context.Background(), plain); err != nil || got.Env["T"] != "v" {
		t.Errorf("plain spec: %v, %v", got, err)
	}
}

// fakeConn hands out fixed messages.
type fakeConn struct {
	msgs []jsonrpc.Message
}

func (c *fakeConn) Read(context.Context) (jsonrpc.Message, error) {
	m := c.msgs[0]
	c.msgs = c.msgs[1:]
	return m, nil
}
func (c *fakeConn) Write(context.Context, jsonrpc.Message) error { return nil }
func (c *fakeConn) Close() error                                 { return nil }
func (c *fakeConn) SessionID() string                            { return "" }

func TestRedactingConn(t *testing.T) {
	g := New(nil)
	g.secrets.Add("k", "remote-secret-1")
	id, _ := jsonrpc.MakeID(float64(1))
	in := &fakeConn{msgs: []jsonrpc.Message{
		&jsonrpc.Response{ID: id, Result: []byte(`{"content":[{"type":"text","text":"key=remote-secret-1"}]}`)},
		&jsonrpc.Response{ID: id, Result: []byte(`{"content":[]}`)},
	}}
	c := redactingConn{in, g.secrets}
	m, err := c.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := string(m.(*jsonrpc.Response).Result); r != `{"content":[{"type":"text","text":"key=[redacted:k]"}]}` {
		t.Errorf("redacted result = %s", r)
	}
	m, _ = c.Read(context.Background())
	if r := string(m.(*jsonrpc.Response).Result); r != `{"content":[]}` {
		t.Errorf("untouched result = %s", r)
	}
}
