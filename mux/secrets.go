package mux

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// resolveSpec returns spec with the ${secret:NAME} references in its env,
// headers, args and url replaced by their values, looked up now: a server
// gets the value current at each start. Every value is registered with the
// redactor first, so nothing the server sends back can carry it to the
// agent, the log or stderr.
func (g *Gateway) resolveSpec(ctx context.Context, spec ServerSpec) (ServerSpec, error) {
	seen := map[string]string{}
	lookup := func(name string) (string, error) {
		if v, ok := seen[name]; ok {
			return v, nil
		}
		if g.opts.Secrets == nil {
			return "", fmt.Errorf("secret %q: no keystore is configured", name)
		}
		v, err := g.opts.Secrets.Get(ctx, name)
		if err != nil {
			return "", err
		}
		g.secrets.Add(name, v)
		seen[name] = v
		return v, nil
	}
	var err error
	expand := func(s string) string {
		if err != nil || !keystore.HasRef(s) {
			return s
		}
		var v string
		v, err = keystore.Expand(s, lookup)
		return v
	}
	expandMap := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return m
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = expand(v)
		}
		return out
	}
	r := spec
	r.URL = expand(spec.URL)
	if len(spec.Args) > 0 {
		r.Args = make([]string, len(spec.Args))
		for i, a := range spec.Args {
			r.Args[i] = expand(a)
		}
	}
	r.Env = expandMap(spec.Env)
	r.Headers = expandMap(spec.Headers)
	if spec.OAuth != nil {
		o := *spec.OAuth
		o.ClientSecret, o.PrivateKey = expand(o.ClientSecret), expand(o.PrivateKey)
		r.OAuth = &o
	}
	if err != nil {
		return ServerSpec{}, err
	}
	return r, nil
}

// redactErr returns err with known secret values masked in its text.
func (g *Gateway) redactErr(err error) error {
	if err == nil || g.secrets.Empty() {
		return err
	}
	s := err.Error()
	if r := g.secrets.RedactString(s); r != s {
		return errors.New(r)
	}
	return err
}

// redactingTransport masks known secret values in every message a remote
// server sends; stdio servers get the same in [lineConn].
type redactingTransport struct {
	mcp.Transport
	known *guard.Known
}

func (t redactingTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return redactingConn{c, t.known}, nil
}

type redactingConn struct {
	mcp.Connection
	known *guard.Known
}

func (c redactingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	if err != nil || c.known.Empty() {
		return m, err
	}
	data, err := jsonrpc.EncodeMessage(m)
	if err != nil {
		return m, nil
	}
	red, changed := c.known.Redact(data)
	if !changed {
		return m, nil
	}
	return jsonrpc.DecodeMessage(red)
}
