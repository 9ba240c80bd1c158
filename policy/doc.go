// Package policy owns who may see and call what through mcpgw: the typed
// [Policy] (teams, roles, argument rules, per-agent profiles, members), its
// compilation into an [Engine] (globs checked and CEL conditions compiled
// once), the [Decision] with its rule, reason and explanation chain, the
// caller's identity as the sources combine ([ResolveIdentity]), a managed
// policy outranking the user's ([Layers], [Combine]), the call path's
// [Stage] that applies all of it, and the signed identity assertions a
// server can check the caller by ([Asserter]).
//
// How a decision is reached, most binding first:
//
//  1. The agent's profile narrows: servers it does not expose, and tools
//     its tool rules leave out, are denied whatever else says.
//  2. Rules ([Rule]) whose server and tool globs match are the most specific
//     level: when one's condition holds, its effect decides; deny beats
//     allow; a condition that cannot be evaluated denies.
//  3. Grants: every grant that applies to the caller is pooled (the team's,
//     the "*" team's, and each role's), and the most specific statement
//     wins: a tool pattern over a grant of the server over a grant of every
//     server ("*"). At the same level an explicit deny beats an allow, and
//     an allow beats "not in this allow list".
//  4. The policy's default, for what nothing speaks of.
//
// A managed policy is a second [Engine] (see [CompileManaged]): a call is
// allowed only when both allow it, so the user can narrow but never widen,
// and under it team and roles come only from the managed policy's members
// or the OS account.
//
// The package has no dependency on the MCP SDK: it sees calls and catalog
// entries as package mux/callpath describes them.
package policy
