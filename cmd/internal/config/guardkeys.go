package config

// The guardrails: section: content checks on the call path.

// Guardrails configures the guards that look at what passes through a call.
type Guardrails struct {
	// Schema is "" or "warn" (the default), "block" or "off": what a
	// tools/call whose arguments do not match the tool's inputSchema gets.
	Schema string
}

// SchemaMode is Schema with the default applied.
func (g Guardrails) SchemaMode() string {
	if g.Schema == "" {
		return "warn"
	}
	return g.Schema
}

// guardrailsTable is the guardrails: section.
var guardrailsTable = table[Guardrails]{
	what: "a mapping such as {schema: warn}",
	entries: []entry[Guardrails]{
		field("schema", enum("use warn (the default: the call goes on, the mismatch is noted in the record), block (the call is refused, saying which argument is wrong) or off (no check)", "warn", "block", "off"),
			func(g *Guardrails) *string { return &g.Schema }),
	},
}
