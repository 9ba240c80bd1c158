package mux

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// An agent speaking 2026-07-28 cannot receive requests from a server
// mid-call; it gets input_required results instead and retries the call with
// the answers. A server speaking an older version still sends elicitation or
// sampling requests mid-call. mcpgw bridges the two: the downstream call stays
// parked, the server's request goes to the agent as input_required on the
// call that caused it, and the agent's retry (carrying mcpgw's signed
// request state) delivers the answer and resumes waiting for the result.

// pendingInput is one server request waiting for the agent's answer.
type pendingInput struct {
	id  string
	req mcp.InputRequest
	// raw is the server's request as it sent it (nil when the SDK decoded
	// it): the agent gets these bytes (see rawInputs).
	raw   json.RawMessage
	reply chan mcp.InputResponse
}

// parkedCall is a downstream call that outlives the agent request which
// started it, while the agent answers an input request.
type parkedCall struct {
	c      *call
	d      *downstream
	ic     *inflightCall
	result chan callResult
	cancel context.CancelFunc
	// stop cancels the downstream call with a cause: the agent's reason
	// reaches the server (cancelreason.go).
	stop    context.CancelCauseFunc
	dl      *callDeadline
	token   string
	pending *pendingInput
	once    sync.Once
}

type callResult struct {
	res *mcp.CallToolResult
	err error
}

// pendingInputs holds parked calls by the key in their request state.
type pendingInputs = parked[*parkedCall]

// parked holds calls that wait for the agent's retry, by the key in their
// request state: calls parked for input a server asked for (pendingInputs)
// and calls held for a question of mcpgw's own (heldCalls, heldinput.go).
type parked[T comparable] struct {
	mu sync.Mutex
	m  map[string]T
}

func (p *parked[T]) park(key string, v T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]T{}
	}
	p.m[key] = v
}

// resume verifies state and takes its call; ok is false when the state is
// not mcpgw's (it then belongs to the downstream server) or holds no call.
func (p *parked[T]) resume(secret []byte, state string) (v T, ok bool) {
	key, ok := verifyState(secret, state)
	if !ok {
		return v, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok = p.m[key]
	delete(p.m, key)
	return v, ok
}

func (p *parked[T]) drop(v T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, x := range p.m {
		if x == v {
			delete(p.m, k)
		}
	}
}

const statePrefix = "mcpgw1."

// signState makes request state the agent cannot forge: the parked call's
// key and an HMAC over it.
func signState(secret []byte, key string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(key))
	return statePrefix + key + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func verifyState(secret []byte, state string) (string, bool) {
	rest, ok := strings.CutPrefix(state, statePrefix)
	if !ok {
		return "", false
	}
	key, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	want := signState(secret, key)
	return key, hmac.Equal([]byte(want), []byte(state)) && sig != ""
}

// callWithInput forwards a call for an agent that speaks 2026-07-28: the
// downstream call runs detached from the agent's request, so it can stay
// parked across input_required round trips.
func (g *Gateway) callWithInput(ctx context.Context, c *call, d *downstream, cs *mcp.ClientSession, params *mcp.CallToolParams, ic *inflightCall, token string) outcome {
	// The call outlives this request, so it carries the cause of its own
	// end, not the request's.
	base, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	dctx, dl, cancel := withCallDeadline(withCauseCarrier(base), d.spec.CallTimeoutFor(c.Name))
	g.progress.onProgress(token, dl.touch)
	pc := &parkedCall{c: c, d: d, ic: ic, result: make(chan callResult, 1), cancel: cancel, stop: stop, dl: dl, token: token}
	go func() {
		res, err := cs.CallTool(dctx, params)
		pc.result <- callResult{res, err}
	}()
	return g.waitParked(ctx, pc)
}

// waitParked waits for the downstream result, or for the server to ask for
// input, which is returned to the agent as input_required.
func (g *Gateway) waitParked(ctx context.Context, pc *parkedCall) outcome {
	select {
	case r := <-pc.result:
		g.finishParked(pc)
		if r.err != nil && pc.dl.timedOut() {
			return timeoutResult(pc.d, pc.c.Name)
		}
		return g.finishCall(pc.c, pc.d, r.res, r.err)
	case pi := <-pc.ic.input:
		return g.askInput(ctx, pc, pi)
	case pi := <-pc.d.nextCallInput:
		return g.askInput(ctx, pc, pi)
	case <-ctx.Done():
		pc.stop(context.Cause(ctx)) // the agent's reason, when it gave one
		g.finishParked(pc)
		return outcome{err: ctx.Err()}
	}
}

// askInput returns a server's request to the agent as input_required on the
// parked call pc, which its retry resumes.
func (g *Gateway) askInput(ctx context.Context, pc *parkedCall, pi *pendingInput) outcome {
	pc.pending = pi
	if pi.raw != nil {
		if ri, ok := ctx.Value(rawInputsKey{}).(*rawInputs); ok {
			ri.add(pi.id, pi.raw)
		}
	}
	key := randomKey()
	g.inputs.park(key, pc)
	return outcome{res: &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{pi.id: pi.req},
		RequestState:  signState(g.stateKey, key),
	}}
}

// resumeInput delivers the agent's answer to the parked server request and
// goes on waiting.
func (g *Gateway) resumeInput(ctx context.Context, c *call, pc *parkedCall) outcome {
	if c.Exposed != pc.c.Exposed {
		g.finishParked(pc)
		return outcome{err: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("requestState belongs to a call of %q, not %q", pc.c.Exposed, c.Exposed)}}
	}
	resp, ok := c.req.Params.InputResponses[pc.pending.id]
	if !ok {
		g.finishParked(pc)
		return outcome{err: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("inputResponses has no answer for input request %q", pc.pending.id)}}
	}
	if pc.pending.raw != nil {
		// The server's request went as it sent it: its answer goes back
		// as the agent sent it (inputraw.go).
		resp = withRawAnswer(c.req, pc.pending.id, resp)
	}
	pc.pending.reply <- resp
	pc.pending = nil
	pc.d.mu.Lock()
	pc.ic.ctx = ctx // the retry is now the request the call belongs to
	pc.d.mu.Unlock()
	g.progress.retarget(ctx, pc.token, c.agent.ss, c.req.Params.GetProgressToken())
	return g.waitParked(ctx, pc)
}

// finishParked releases everything a parked call holds; the downstream
// call is cancelled if it is still running.
func (g *Gateway) finishParked(pc *parkedCall) {
	pc.once.Do(func() {
		pc.cancel()
		pc.stop(nil)
		pc.d.removeInflight(pc.ic)
		if pc.token != "" {
			g.progress.remove(pc.token)
		}
		g.inputs.drop(pc)
	})
}

// askViaInputRequired hands a server's mid-call request to the agent call
// that caused it and waits for the answer. Without exactly one such call the
// request is declined, and the reason logged.
func (g *Gateway) askViaInputRequired(ctx context.Context, d *downstream, ic *inflightCall, req mcp.InputRequest, raw json.RawMessage, nextCall bool) (mcp.InputResponse, error) {
	if (ic == nil || ic.input == nil) && nextCall {
		return awaitInput(ctx, d.nextCallInput, req, raw, fmt.Errorf("mcpgw: server %q already has an input request waiting for the agent's next call; declined", d.spec.Name))
	}
	if ic == nil || ic.input == nil {
		err := fmt.Errorf("mcpgw: server %q asked the agent for input mid-call, but the agent speaks %s (no server-initiated requests) and the request cannot be tied to exactly one call in flight; declined", d.spec.Name, ProtocolV20260728)
		g.logger.Warn("declined server input request", "server", d.spec.Name, "reason", err)
		return nil, err
	}
	return awaitInput(ctx, ic.input, req, raw, fmt.Errorf("mcpgw: server %q already has an input request pending on this call; declined", d.spec.Name))
}

// awaitInput hands req to whatever carries it to the agent (the call
// waiting on to) and waits for the agent's answer; busy is the error when
// to holds another request already.
func awaitInput(ctx context.Context, to chan *pendingInput, req mcp.InputRequest, raw json.RawMessage, busy error) (mcp.InputResponse, error) {
	pi := &pendingInput{id: "mcpgw-" + randomKey()[:8], req: req, raw: raw, reply: make(chan mcp.InputResponse, 1)}
	select {
	case to <- pi:
	default:
		return nil, busy
	}
	select {
	case resp := <-pi.reply:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func randomKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
