// Package mux owns the gateway itself: it runs or connects to downstream MCP
// servers, merges their tools, prompts and resources into one catalog,
// routes each request to the server that owns it, governs the requests
// worth governing, and relays everything the servers and the agent say to
// each other (progress, cancellation, logging, list changes, elicitation,
// sampling, roots) as if they spoke directly.
//
// # Layout
//
// mux is the gateway and everything that needs both sides of it at once:
// [Gateway] and [Options], the agent-facing server (stdio and HTTP), one
// downstream per server with its restart loop, the relays, startup, the
// record hand-off, and the tools/call fast path. Around it, packages that
// each own one thing and never refer to a Gateway:
//
//	mux/callpath        the contract with the stages that govern requests:
//	                    Call, Verdict, Session, the request, result and
//	                    catalog phases, and the Chain that runs them. No
//	                    MCP SDK types, so stages in policy and policy/guard
//	                    are written and tested without it.
//	mux/catalog         the merged catalog: snapshots in, names and
//	                    collisions resolved, routes and lists out, and the
//	                    pre-encoded tools/list answer with its cursors.
//	mux/proc            spawning and supervising stdio servers' process
//	                    trees per OS, their stdout filter and stderr ring,
//	                    the child environment, PATH lookup, the sweep.
//	mux/internal/stdio  the newline-delimited JSON-RPC transport both stdio
//	                    sides use, with the hook the fast path takes
//	                    messages through.
//
// The split follows what changes together: a new governance feature is a
// stage (callpath), a naming rule is the catalog, a platform is proc, a
// framing problem is stdio; none of them needs the gateway's locks or its
// SDK sessions.
//
// # The call path
//
// tools/call (on the SDK path, on the fast path, and from `mcpgw call`),
// prompts/get, resources/read, and a server's elicitation and sampling
// requests each become one call (newCall in call.go), routed before any
// stage sees it, admitted by the catalog and request phases, forwarded,
// inspected by the result phase, and recorded (recordCall). Everything
// else (lists, completion, subscriptions, the log level, roots) is relayed
// without a stage: it carries no payload a policy decides on.
//
// In search mode (search.go), a call through mcpgw__call_tool is rewritten
// into the call of the tool it names where it enters (the upstream
// middleware, the stdio fast path), before routing: every stage, the
// record and the relays see the inner call, under the agent's request id
// and progress token. The search index is package toolindex.
//
// When no stage inspects results, a fast-path call is sent from the agent's
// reader and answered from the server's reader (fastinline.go): no
// goroutine hand-off in between. A stage that must wait (for a person's
// approval) holds the call instead, which moves it to a goroutine of its
// own; request checks themselves never block a reader.
//
// # Who is calling
//
// A call's identity is its agent session's: the caller the HTTP front's
// [Options].Authenticate admitted for that session (verified, bound to its
// credential by the SDK), else [Options].Identity (auth.go). Servers get it
// in _meta (io.mcpgw/identity) and, when their spec asks and it is
// verified, as a signed assertion ([Options].SignAssertion): in _meta for
// stdio servers, in a header for remote ones.
package mux
