package mux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/internal/rawio"
	"github.com/mcpgw/mcpgw/mux/internal/stdio"
)

// ServeStdio serves one agent over in/out (the agent's pipe to mcpgw) until
// the agent disconnects or ctx is done. Downstream servers start on the
// agent's first request, spoken to in its protocol version.
func (g *Gateway) ServeStdio(ctx context.Context, in io.ReadCloser, out io.WriteCloser) error {
	g.held.watched.Store(true) // Written reports the answers
	g.stdioMode.Store(true)    // the agent's identity is the servers' (identity.go)
	o := &stdio.Options{ParseErrors: true, Junk: func(s string) { g.logger.Warn("from the agent: " + s) }, Written: g.answerWritten, Withhold: g.withholdStdio, Extra: agentRequestExtra}
	// The front hook also sees the agent's cancellations first (see
	// cancelled.go); with NoFastPath it takes no calls.
	ff := newFastFront(g)
	o.Hook = ff
	o.Sending = ff.sending
	lt := stdio.NewTransport(in, out, o)
	ss, err := g.server.Connect(ctx, lt, nil)
	if err != nil {
		return fmt.Errorf("starting the stdio session: %w", err)
	}
	ff.conn = lt.Conn()
	ff.ss.Store(ss) // publishes conn too: take reads ss first
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Close waits for the session's reader, and a blocking read of the
		// process's stdin (a terminal; a pipe serve did not make
		// non-blocking) does not return when the file is closed: close in
		// the background and give a reader that does end a moment, so a
		// signal stops serving at once.
		go ss.Close()
		select {
		case err = <-done:
		case <-time.After(stdioCloseWait):
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) || ctx.Err() != nil {
		return nil
	}
	return err
}

// stdioCloseWait is how long ServeStdio waits for the agent's connection
// to close once ctx is done.
const stdioCloseWait = 200 * time.Millisecond

// HTTPHandler serves agents over streamable HTTP: sessions for clients of
// protocol versions up to 2025-11-25 (so servers can send them requests), and
// stateless handling for 2026-07-28 clients. With [Options].Authenticate,
// every request is authenticated first (auth.go). A request without a
// caller has its Host and Origin checked against DNS rebinding; one with a
// caller was admitted by its credential, which no page can send by itself.
func (g *Gateway) HTTPHandler() http.Handler {
	g.httpMode.Store(true) // no agent of its own: servers get no CLI identity
	getServer := func(*http.Request) *mcp.Server { return g.server }
	// The SDK's own DNS rebinding check (a loopback connection must name a
	// loopback Host) is the one below for requests without a caller; one
	// with a caller may come through a local proxy under any name.
	stateful := mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{Logger: g.logger, DisableLocalhostProtection: true})
	stateless := mcp.NewStreamableHTTPHandler(getServer, &mcp.StreamableHTTPOptions{Logger: g.logger, Stateless: true, PropagateRequestCancellation: true, DisableLocalhostProtection: true})
	var statefulAuthed, statelessAuthed http.Handler
	if g.opts.Authenticate != nil {
		statefulAuthed, statelessAuthed = withCallerToken(stateful), withCallerToken(stateless)
	}
	// Browsers may reach a loopback server from any page; only pages served
	// from the machine itself (loopback origins, any port) may call it.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, caller, ok := g.authenticate(w, r)
		if !ok {
			return
		}
		// mcpgw's own headers for the SDK's handlers, never the agent's
		// (noteCancelledPOST sets them from the body).
		r.Header.Del(agentRequestHeader)
		r.Header.Del(inputResponsesHeader)
		var stateful, stateless http.Handler = stateful, stateless
		if caller != nil {
			stateful, stateless = statefulAuthed, statelessAuthed
		} else {
			if !loopbackHost(r.Host) {
				http.Error(w, fmt.Sprintf("Forbidden: Host %q is not a loopback name; mcpgw only answers on localhost", r.Host), http.StatusForbidden)
				return
			}
			if o := r.Header.Get("Origin"); o != "" && !loopbackOrigin(o) {
				http.Error(w, fmt.Sprintf("Forbidden: Origin %q is not a loopback origin", o), http.StatusForbidden)
				return
			}
		}
		if v := r.Header.Get("Mcp-Protocol-Version"); v >= ProtocolV20260728 && r.Header.Get("Mcp-Session-Id") == "" {
			if !g.serveRawHTTP(w, r) { // httpraw.go
				g.noteCancelledPOST(r, "") // a retry's inputResponses, as sent
				stateless.ServeHTTP(w, r)
			}
			return
		}
		if id := r.Header.Get("Mcp-Session-Id"); id != "" {
			if g.takeRawAnswers(w, r, id) || g.serveRawSessionPOST(w, r, id) { // httpsession.go
				return
			}
			g.noteCancelledPOST(r, id) // see cancelled.go
			w = cancelFilter{ResponseWriter: w, g: g, session: id}
		}
		stateful.ServeHTTP(w, r)
	})
}

// ListenAndServeHTTP serves [Gateway.HTTPHandler] on addr until ctx is done.
// Only loopback addresses are accepted unless [Options].Authenticate is set:
// whoever can reach the port must first be a caller it admits.
func (g *Gateway) ListenAndServeHTTP(ctx context.Context, addr string, ready func(net.Addr)) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: want HOST:PORT, e.g. 127.0.0.1:8931: %w", addr, err)
	}
	if !loopbackHost(host) && g.opts.Authenticate == nil {
		return fmt.Errorf("--http %q: mcpgw serves HTTP on loopback only (127.0.0.1, ::1 or localhost) unless callers must authenticate; use 127.0.0.1:PORT", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	// Servers start with the first agent, in its protocol version and with
	// its capabilities (see startup.go).
	srv := &http.Server{Handler: g.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	// Agents' connections are read and written with raw system calls
	// (see package rawio).
	go func() { errc <- srv.Serve(rawio.Listener{Listener: ln}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return nil
	}
}

// loopbackHost reports whether a host (optionally with port) names the
// local machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackOrigin(origin string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return false
	}
	return loopbackHost(rest)
}
