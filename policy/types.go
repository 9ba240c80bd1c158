package policy

import "github.com/mcpgw/mcpgw/mux/callpath"

// Identity is who is calling: user, team and roles.
type Identity = callpath.Identity

// Effect is what a policy says of a call: allow or deny.
type Effect string

// The effects.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Policy is one policy as written: the user's own, or a managed one.
// Config decoding builds it; [Compile] checks and compiles it.
type Policy struct {
	// Default decides what nothing in the policy speaks of. Empty means
	// deny: a policy starts from nothing granted.
	Default Effect
	// Teams grants by team; the key "*" applies to every caller, with a
	// team or without.
	Teams map[string]Grants
	// Roles add grants to the callers who hold the role.
	Roles map[string]Grants
	// Rules are conditions on a call's arguments and identity, in file
	// order; they are the most specific level.
	Rules []Rule
	// Profiles narrow what one agent sees and may call, in file order (the
	// first whose match fits the agent's name is selected). Only the user's
	// policy has them.
	Profiles []Profile
	// Members assign team and roles to users. Only a managed policy has
	// them: under one, they are the only source of team and roles besides
	// the OS account.
	Members []Member
}

// Grants is what a team or role may use, by server: the key is a server
// name, or "*" for every server.
type Grants struct {
	Servers map[string]ServerGrant
}

// ServerGrant is what a grant gives of one server (or of every server).
// An entry is a grant: with no allow list it gives everything of its kind
// that Deny does not name. Each kind of target has its own rules, so a
// grant with only tool rules gives all the server's prompts and resources.
// To take something away without granting the rest, write a [Rule] with
// effect deny.
type ServerGrant struct {
	Tools     ToolRules // by the server's own tool names
	Prompts   ToolRules // by the server's own prompt names
	Resources ToolRules // by URI; in these globs "**" also crosses "/"
}

// ToolRules narrows a server's tools (and, in [ServerGrant], its prompts by
// name and resources by URI): path.Match globs. An empty Allow allows
// everything Deny does not name; a non-empty one allows only what it names.
// A pattern of "*" speaks of the whole server, any other pattern of the
// targets it matches.
type ToolRules struct {
	Allow []string
	Deny  []string
}

// Rule is a condition on calls: where Server and Tool match (globs; empty
// matches all) and When holds, Effect decides the call.
type Rule struct {
	// Name, optional, gives the rule a stable id ("rules.NAME") that does
	// not change when rules are added before it; without it the id is
	// "rules[INDEX]".
	Name string
	// Kind is what the rule applies to: tool (the default), prompt or
	// resource. For resources, Tool is a URI glob.
	Kind   string
	Server string
	Tool   string
	// When is a CEL expression over args (the call's arguments), identity
	// (user, team, roles), server, tool (the server's own name for the
	// target) and kind. Empty always holds.
	When   string
	Effect Effect
	// Message, optional, is what the model is told when the rule denies.
	Message string
}

// Profile narrows what one agent sees: it can only take away.
type Profile struct {
	Name string
	// Identity overrides the caller's user, team and roles for sessions
	// of this profile (each field only when set). Under a managed policy
	// it is ignored: identity then comes from the OS account and the
	// managed policy's members.
	Identity Identity
	// Servers the profile exposes (globs); empty exposes all.
	Servers []string
	// Tools narrows tools by their exposed names (server__tool).
	Tools ToolRules
	// Match selects the profile for agents by their clientInfo name.
	Match Match
}

// Match is how a profile is selected when none is named.
type Match struct {
	// Client is a glob over the agent's clientInfo name, matched without
	// regard to case ("cursor*" matches "Cursor").
	Client string
}

// Member gives a user a team and roles (managed policies only).
type Member struct {
	User  string // a glob over the user name (the OS account under a managed policy)
	Team  string
	Roles []string
}
