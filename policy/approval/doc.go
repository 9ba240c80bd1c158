// Package approval is the call path's human-approval stage: calls that
// match an approval rule (a server and tool glob, a tool's explicit
// destructiveHint, a CEL condition on the arguments) are held until a
// person decides, through the agent's elicitation or out of band (a row in
// a [Store] that `mcpgw approvals` decides, possibly from another
// process). A timeout denies. A decision covers the one call, the rest of
// the agent's session, or the same arguments for a period.
package approval
