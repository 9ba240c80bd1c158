package main

// The relays: the least a gateway in a process of its own can do, so the
// benchmark can tell what mcpgw costs from what the extra process costs.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
)

// runRelay copies the agent's stdin to the fixture's and the fixture's
// stdout to the agent's, bytes untouched.
func runRelay(ctx context.Context, fixture string) error {
	cmd, in, _, err := startFixture(ctx, fixture, os.Stdout)
	if err != nil {
		return err
	}
	go func() {
		io.Copy(in, os.Stdin)
		in.Close()
	}()
	return cmd.Wait()
}

// startFixture starts the fixture and returns its stdin and, when stdout
// is nil, its stdout; otherwise its stdout goes to stdout.
func startFixture(ctx context.Context, fixture string, stdout *os.File) (cmd *exec.Cmd, in io.WriteCloser, out io.ReadCloser, err error) {
	cmd = exec.CommandContext(ctx, fixture)
	cmd.Stderr = os.Stderr
	if in, err = cmd.StdinPipe(); err != nil {
		return nil, nil, nil, err
	}
	if stdout != nil {
		cmd.Stdout = stdout
	} else if out, err = cmd.StdoutPipe(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, in, out, cmd.Start()
}

// runHTTPRelay serves streamable HTTP in front of the stdio fixture with
// the least work the front allows: each POST's body goes to the fixture
// as one line, and the line answering its id comes back as the response
// (application/json); notifications get 202, and there is no stream to
// GET. Only the id is decoded, to match answers to requests.
func runHTTPRelay(ctx context.Context, fixture string) error {
	cmd, in, out, err := startFixture(ctx, fixture, nil)
	if err != nil {
		return err
	}
	var (
		wmu     sync.Mutex // writes to the fixture
		mu      sync.Mutex
		waiting = map[string]chan []byte{}
	)
	type envelope struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	go func() {
		r := bufio.NewReaderSize(out, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var e envelope
			if json.Unmarshal(line, &e) != nil || e.ID == nil || e.Method != "" {
				continue // the fixture asks nothing of the agent in the bench
			}
			mu.Lock()
			ch := waiting[string(e.ID)]
			delete(waiting, string(e.ID))
			mu.Unlock()
			if ch != nil {
				ch <- line
			}
		}
	}()
	send := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := in.Write(append(b, '\n'))
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(r.Body)
		var e envelope
		if err == nil {
			err = json.Unmarshal(body, &e)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if e.ID == nil {
			if err := send(body); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			return
		}
		ch := make(chan []byte, 1)
		mu.Lock()
		if waiting[string(e.ID)] != nil {
			mu.Unlock()
			http.Error(w, "id in use", http.StatusBadRequest)
			return
		}
		waiting[string(e.ID)] = ch
		mu.Unlock()
		if err := send(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		select {
		case line := <-ch:
			w.Header().Set("Content-Type", "application/json")
			w.Write(line)
		case <-r.Context().Done():
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "relay: serving MCP at http://%s/\n", ln.Addr())
	srv := &http.Server{Handler: h}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	in.Close()
	return cmd.Wait()
}
