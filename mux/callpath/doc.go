// Package callpath owns the contract between the gateway and the stages that
// govern what passes through it: policy, guardrails, rate limits, approval
// and pinning all plug in here, in whatever package they live.
//
// Every request worth governing becomes one [Call]: a tools/call (on either
// of the gateway's forwarding paths), a prompts/get, a resources/read, and a
// server's elicitation or sampling request on its way to the agent. The
// gateway routes it first, so a stage always knows the server and the
// server's own name for the target; then it runs the [Chain]:
//
//	catalog   CatalogStage.Hide  may this session see (and so call) it?
//	request   RequestStage       allow, deny, block, or hold (approval)
//	forward   (the gateway)      the server answers
//	result    ResultStage        inspect the answer; may rewrite it (redact)
//	record    (the gateway)      one row, with every stage's [Verdict]
//
// The phases are separate interfaces, not one middleware function: a stage
// that never looks at results says so by not implementing [ResultStage], and
// the gateway can then answer the agent straight from the server's reader
// (its fastest path) whatever else is configured.
//
// Payloads stay raw JSON: a stage that does nothing costs nothing, and the
// package has no dependency on the MCP SDK, so stages in the domain packages
// (policy, policy/guard) are written and tested without it.
package callpath
