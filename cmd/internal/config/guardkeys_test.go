package config

import "testing"

func TestGuardrailsSchema(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"servers: {}\n", "warn"},
		{"guardrails: {schema: warn}\n", "warn"},
		{"guardrails: {schema: block}\n", "block"},
		{"guardrails:\n  schema: off\n", "off"},
	} {
		c, err := Parse("c.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.Guardrails.SchemaMode(); got != tc.want {
			t.Errorf("%q: schema mode %q; want %q", tc.yaml, got, tc.want)
		}
	}
}
