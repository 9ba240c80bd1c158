//go:build linux

package rawio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tcpPair returns a wrapped server side and a plain client side of a
// loopback TCP connection.
func tcpPair(t *testing.T) (srv net.Conn, cli net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := Listener{ln}.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	cli, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv = <-accepted
	if srv == nil {
		t.FailNow()
	}
	t.Cleanup(func() { srv.Close(); cli.Close() })
	if _, ok := srv.(*Conn); !ok {
		t.Fatalf("Listener.Accept returned a %T, want a *Conn", srv)
	}
	return srv, cli
}

func TestConnRoundTrip(t *testing.T) {
	srv, cli := tcpPair(t)
	// More than the socket buffers hold: both sides wait in the poller.
	want := bytes.Repeat([]byte("mcpgw "), 1<<18)
	go func() {
		srv.Write(want)
		srv.(*Conn).CloseWrite()
	}()
	got, err := io.ReadAll(cli)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("client read %d bytes (%v), want the %d the server wrote", len(got), err, len(want))
	}
	go func() {
		cli.Write([]byte("back"))
		cli.Close()
	}()
	got, err = io.ReadAll(srv)
	if err != nil || string(got) != "back" {
		t.Fatalf("server read %q, %v; want \"back\", nil", got, err)
	}
}

func TestConnErrorsAreNetErrors(t *testing.T) {
	srv, _ := tcpPair(t)
	// net/http aborts its background read with a deadline in the past and
	// expects a net.Error whose Timeout is true.
	srv.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := srv.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past its deadline: %v; want a net.Error that timed out", err)
	}
	srv.SetReadDeadline(time.Time{})
	srv.Close()
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read of a closed connection: %v; want net.ErrClosed", err)
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write to a closed connection: %v; want net.ErrClosed", err)
	}
}

// TestHTTPServerOverListener serves HTTP/1.1 on wrapped connections, as
// mcpgw serve --http does: keep-alive requests, a streamed answer, and a
// shutdown that closes idle connections.
func TestHTTPServerOverListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{
		Listener: Listener{ln},
		Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: " + strings.ToUpper(string(body)) + "\n\n"))
			w.(http.Flusher).Flush()
			w.Write([]byte("data: end\n\n"))
		})},
	}
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	for i := range 3 { // one connection, kept alive
		resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("call"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != "data: CALL\n\ndata: end\n\n" {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
