package config

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const file = "/home/u/.config/mcpgw/config.yaml"
	tests := []struct {
		name string
		src  string
		want string // the whole message, or a prefix ending in "…"
	}{
		{
			name: "unknown key in server",
			src:  "servers:\n  everything:\n    comand: npx\n",
			want: file + `:3: servers.everything: unknown key "comand" (did you mean "command"?); allowed keys: command, args, env, cwd, url, transport, headers, prefix, enabled, start, tools, timeouts, protocol_version, identity, oauth`,
		},
		{
			name: "unknown top-level key",
			src:  "server:\n  a:\n    command: x\n",
			want: file + `:1: unknown key "server" (did you mean "servers"?); allowed keys: servers, secrets, logs, identity, profiles, policy, limits, pinning, guardrails, catalog, approval`,
		},
		{
			name: "secret in command",
			src:  "servers:\n  a:\n    command: ${secret:tok}\n",
			want: file + `:3: servers.a.command: ${secret:NAME} references are resolved only in a server's env, headers, args and url; …`,
		},
		{
			name: "secret in cwd",
			src:  "servers:\n  a:\n    command: x\n    cwd: /x/${secret:tok}\n",
			want: file + `:4: servers.a.cwd: ${secret:NAME} references are resolved only in a server's env, headers, args and url; …`,
		},
		{
			name: "secret in a tool glob",
			src:  "servers:\n  a:\n    command: x\n    tools: {allow: [\"${secret:t}\"]}\n",
			want: file + `:4: servers.a.tools.allow[0]: ${secret:NAME} references are resolved only …`,
		},
		{
			name: "bad secret name",
			src:  "servers:\n  a:\n    command: x\n    env: {T: \"${secret:my token}\"}\n",
			want: file + `:4: servers.a.env.T: reference ${secret:my token}: bad secret name "my token"; use 1 to 64 letters, digits, _, - and ., starting with a letter or digit (e.g. github-token)`,
		},
		{
			name: "unknown secrets key",
			src:  "secrets:\n  fallbak: env\n",
			want: file + `:2: secrets: unknown key "fallbak" (did you mean "fallback"?); allowed keys: fallback, timeout`,
		},
		{
			name: "oauth on a local server",
			src:  "servers:\n  a:\n    command: x\n    oauth: {client_id: c}\n",
			want: file + `:4: servers.a.oauth: only valid for a remote server (one with url:), but this server runs a command; remove oauth:`,
		},
		{
			name: "oauth client secret in clear",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {client_id: c, client_secret: hunter2}\n",
			want: file + `:4: servers.a.oauth.client_secret: must be a ${secret:NAME} reference, not the value itself; store the value with: mcpgw secret set NAME, then write client_secret: ${secret:NAME}`,
		},
		{
			name: "oauth unknown grant",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {grant: password}\n",
			want: file + `:4: servers.a.oauth.grant: unknown grant "password"; use authorization_code …`,
		},
		{
			name: "oauth client credentials without a secret",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth:\n      grant: client_credentials\n      client_id: c\n",
			want: file + `:4: servers.a.oauth.client_secret: grant client_credentials needs client_secret: ${secret:NAME} (or private_key: ${secret:NAME} for private_key_jwt); store it with: mcpgw secret set NAME`,
		},
		{
			name: "oauth private key without client credentials",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {private_key: \"${secret:k}\"}\n",
			want: file + `:4: servers.a.oauth.private_key: private_key is used only with grant: client_credentials; remove it, or set grant: client_credentials`,
		},
		{
			name: "oauth metadata url not https",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {client_metadata_url: http://x.example/c.json}\n",
			want: file + `:4: servers.a.oauth.client_metadata_url: bad client_metadata_url "http://x.example/c.json"; it must be an https:// URL with a path…`,
		},
		{
			name: "oauth unknown key",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {scope: [a]}\n",
			want: file + `:4: servers.a.oauth: unknown key "scope" (did you mean "scopes"?); allowed keys: grant, client_id, client_secret, scopes, client_metadata_url, private_key, elicit_login`,
		},
		{
			name: "oauth elicit_login not a boolean",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {elicit_login: sometimes}\n",
			want: file + `:4: servers.a.oauth.elicit_login: …`,
		},
		{
			name: "oauth elicit_login with client credentials",
			src:  "servers:\n  a:\n    url: https://x.example/mcp\n    oauth: {grant: client_credentials, client_id: c, client_secret: \"${secret:s}\", elicit_login: true}\n",
			want: file + `:4: servers.a.oauth.elicit_login: elicit_login asks a person at the agent to log in, and grant client_credentials has no person; remove it`,
		},
		{
			name: "bad secrets fallback",
			src:  "secrets: {fallback: file}\n",
			want: file + `:1: secrets.fallback: unknown fallback "file"; use env …`,
		},
		{
			name: "bad guardrails schema",
			src:  "guardrails:\n  schema: strict\n",
			want: file + `:2: guardrails.schema: unknown schema "strict"; use warn (the default: the call goes on, the mismatch is noted in the record), block (the call is refused, saying which argument is wrong) or off (no check)`,
		},
		{
			name: "unknown guardrails key",
			src:  "guardrails: {shema: block}\n",
			want: file + `:1: guardrails: unknown key "shema" (did you mean "schema"?); allowed keys: schema, secrets, pii, max_scan_bytes`,
		},
		{
			name: "secrets not a mapping",
			src:  "secrets: env\n",
			want: file + `:1: secrets: …`,
		},
		{
			name: "unknown key in tools",
			src:  "servers:\n  a:\n    command: x\n    tools:\n      alow: [x]\n",
			want: file + `:5: servers.a.tools: unknown key "alow" (did you mean "allow"?); allowed keys: allow, deny`,
		},
		{
			name: "unknown key in timeouts",
			src:  "servers:\n  a:\n    command: x\n    timeouts: {start: 5s}\n",
			want: file + `:4: servers.a.timeouts: unknown key "start"; allowed keys: connect, call, tools`,
		},
		{
			name: "bad glob in tool timeouts",
			src:  "servers:\n  a:\n    command: x\n    timeouts:\n      tools: {\"export_[\": 10m}\n",
			want: file + `:5: servers.a.timeouts.tools.export_[: bad glob "export_[": …`,
		},
		{
			name: "zero tool timeout",
			src:  "servers:\n  a:\n    command: x\n    timeouts:\n      tools: {export: 0s}\n",
			want: file + `:5: servers.a.timeouts.tools.export: …`,
		},
		{
			name: "args not a list",
			src:  "servers:\n  a:\n    command: x\n    args: 5\n",
			want: file + `:4: servers.a.args: expected a list, got 5; write it like args: ["--port", "8080"]`,
		},
		{
			name: "command not a string",
			src:  "servers:\n  a:\n    command: [x]\n",
			want: file + `:3: servers.a.command: expected a single value, got a list`,
		},
		{
			name: "enabled maybe",
			src:  "servers:\n  a:\n    command: x\n    enabled: maybe\n",
			want: file + `:4: servers.a.enabled: expected true or false, got "maybe"`,
		},
		{
			name: "bad duration",
			src:  "servers:\n  a:\n    command: x\n    timeouts: {connect: soon}\n",
			want: file + `:4: servers.a.timeouts.connect: "soon" is not a duration; write a number with a unit, like 30s, 2m or 1m30s`,
		},
		{
			name: "duration without unit",
			src:  "servers:\n  a:\n    command: x\n    timeouts:\n      call: 30\n",
			want: file + `:5: servers.a.timeouts.call: "30" is not a duration; …`,
		},
		{
			name: "env not a mapping",
			src:  "servers:\n  a:\n    command: x\n    env: [A=1]\n",
			want: file + `:4: servers.a.env: expected a mapping of names to values, got a list; …`,
		},
		{
			name: "servers not a mapping",
			src:  "servers:\n  - a\n",
			want: file + `:2: servers: expected a mapping of server names to definitions, got a list`,
		},
		{
			name: "root not a mapping",
			src:  "- a\n",
			want: file + `:1: expected a mapping with a servers: key, got a list`,
		},
		{
			name: "both command and url",
			src:  "servers:\n  a:\n    command: x\n    url: https://example.com/mcp\n",
			want: file + `:2: servers.a: has both command and url; …`,
		},
		{
			name: "neither command nor url",
			src:  "servers:\n  a:\n    args: [x]\n",
			want: file + `:2: servers.a: has neither command nor url; set command: to run a local server …`,
		},
		{
			name: "empty server",
			src:  "servers:\n  a:\n",
			want: file + `:2: servers.a: has neither command nor url; …`,
		},
		{
			name: "unset variable",
			src:  "servers:\n  a:\n    command: x\n    env:\n      TOKEN: ${MCPGW_TEST_UNSET_VAR}\n",
			want: file + `:5: servers.a.env.TOKEN: environment variable MCPGW_TEST_UNSET_VAR is not set; export it (export MCPGW_TEST_UNSET_VAR=...) before starting mcpgw, …`,
		},
		{
			name: "unset variable in list",
			src:  "servers:\n  a:\n    command: x\n    args:\n      - --dir\n      - ${MCPGW_TEST_UNSET_VAR}\n",
			want: file + `:6: servers.a.args[1]: environment variable MCPGW_TEST_UNSET_VAR is not set; …`,
		},
		{
			name: "bad transport",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    transport: grpc\n",
			want: file + `:4: servers.a.transport: unknown transport "grpc"; use streamable or sse (or leave it out for streamable)`,
		},
		{
			name: "transport with command",
			src:  "servers:\n  a:\n    command: x\n    transport: sse\n",
			want: file + `:4: servers.a.transport: only valid for a remote server (one with url:), but this server runs a command; remove transport:`,
		},
		{
			name: "headers with command",
			src:  "servers:\n  a:\n    command: x\n    headers: {A: b}\n",
			want: file + `:4: servers.a.headers: only valid for a remote server …`,
		},
		{
			name: "env with url",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    env: {A: b}\n",
			want: file + `:4: servers.a.env: only valid for a local server (one with command:), but this server connects to a url; …`,
		},
		{
			name: "args with url",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    args: [x]\n",
			want: file + `:4: servers.a.args: only valid for a local server …`,
		},
		{
			name: "cwd with url",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    cwd: /tmp\n",
			want: file + `:4: servers.a.cwd: only valid for a local server …`,
		},
		{
			name: "bad url",
			src:  "servers:\n  a:\n    url: example.com\n",
			want: file + `:3: servers.a.url: bad url "example.com"; it must be an http:// or https:// address …`,
		},
		{
			name: "bad start",
			src:  "servers:\n  a:\n    command: x\n    start: later\n",
			want: file + `:4: servers.a.start: unknown start "later"; use eager (start with the gateway) or lazy (start on first call)`,
		},
		{
			name: "bad server name",
			src:  "servers:\n  my server:\n    command: x\n",
			want: file + `:2: servers."my server": bad server name "my server"; use only letters, digits, _ and -`,
		},
		{
			name: "bad prefix",
			src:  "servers:\n  a:\n    command: x\n    prefix: my.prefix\n",
			want: file + `:4: servers.a.prefix: bad prefix "my.prefix"; use only letters, digits, _ and - (or "" for no prefix)`,
		},
		{
			name: "bad glob",
			src:  "servers:\n  a:\n    command: x\n    tools:\n      deny: [ok, \"[abc\"]\n",
			want: file + `:5: servers.a.tools.deny[1]: bad glob "[abc": syntax error in pattern; globs use path.Match syntax: …`,
		},
		{
			name: "bad protocol version",
			src:  "servers:\n  a:\n    command: x\n    protocol_version: \"2025-6-18\"\n",
			want: file + `:4: servers.a.protocol_version: bad protocol version "2025-6-18"; it must look like YYYY-MM-DD, e.g. 2025-06-18`,
		},
		{
			name: "impossible protocol version",
			src:  "servers:\n  a:\n    command: x\n    protocol_version: \"2025-13-45\"\n",
			want: file + `:4: servers.a.protocol_version: bad protocol version "2025-13-45": not a real date; …`,
		},
		{
			name: "duplicate server",
			src:  "servers:\n  a:\n    command: x\n  a:\n    command: y\n",
			want: file + `:4: servers: key "a" appears twice (first on line 2); keep one`,
		},
		{
			name: "env var without value",
			src:  "servers:\n  a:\n    command: x\n    env:\n      TOKEN:\n",
			want: file + `:5: servers.a.env.TOKEN: has no value; set one (e.g. TOKEN: ${TOKEN}) or write "" for an empty value`,
		},
		{
			name: "bad header name",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    headers: {\"Bad Header\": x}\n",
			want: file + `:4: servers.a.headers."Bad Header": bad header name "Bad Header"; …`,
		},
		{
			name: "unknown guardrails key",
			src:  "guardrails:\n  secret: {input: block}\n",
			want: file + `:2: guardrails: unknown key "secret" (did you mean "secrets"?); allowed keys: schema, secrets, pii, max_scan_bytes`,
		},
		{
			name: "bad secrets input",
			src:  "guardrails:\n  secrets: {input: mask}\n",
			want: file + `:2: guardrails.secrets.input: unknown input "mask"; use block (refuse the call, saying what was found and where), redact (send the server the arguments with what was found replaced by [REDACTED:rule]), warn (let it through and record the finding) or off`,
		},
		{
			name: "bad pii output",
			src:  "guardrails:\n  pii:\n    output: mask\n",
			want: file + `:3: guardrails.pii.output: unknown output "mask"; use redact (replace what was found with [REDACTED:rule]), block (withhold the whole answer), warn (pass it and record the finding) or off`,
		},
		{
			name: "unknown pii type",
			src:  "guardrails:\n  pii: {types: [email, passport]}\n",
			want: file + `:2: guardrails.pii.types[1]: unknown PII type "passport"; use any of email, phone, card, iban, ssn, ip`,
		},
		{
			name: "bad max_scan_bytes",
			src:  "guardrails: {max_scan_bytes: huge}\n",
			want: file + `:1: guardrails.max_scan_bytes: "huge" is not a size; write a number with a unit, like 500MB, 2GB or 64KB`,
		},
		{
			name: "rules not toml",
			src:  "guardrails: {secrets: {rules: rules.yaml}}\n",
			want: file + `:1: guardrails.secrets.rules: "rules.yaml" is not a .toml file; name a gitleaks rules file, e.g. rules: extra-rules.toml (relative to this configuration file)`,
		},
		{
			name: "unknown logs key",
			src:  "logs:\n  payload: none\n",
			want: file + `:2: logs: unknown key "payload" (did you mean "payloads"?); allowed keys: enabled, path, payloads, max_payload_bytes, strict, retention`,
		},
		{
			name: "bad payloads",
			src:  "logs: {payloads: all}\n",
			want: file + `:1: logs.payloads: unknown payloads "all"; use redacted (the default: stored with secrets masked), full (stored as sent) or none (sizes and hashes only)`,
		},
		{
			name: "bad strict",
			src:  "logs:\n  strict: yes please\n",
			want: file + `:2: logs.strict: expected true or false, got "yes please"`,
		},
		{
			name: "bad max_payload_bytes",
			src:  "logs:\n  max_payload_bytes: lots\n",
			want: file + `:2: logs.max_payload_bytes: "lots" is not a size; write a number with a unit, like 500MB, 2GB or 64KB`,
		},
		{
			name: "unknown retention key",
			src:  "logs:\n  retention:\n    max_ag: 7d\n",
			want: file + `:3: logs.retention: unknown key "max_ag" (did you mean "max_age"?); allowed keys: max_age, max_size`,
		},
		{
			name: "bad max_age",
			src:  "logs:\n  retention: {max_age: 7days}\n",
			want: file + `:2: logs.retention.max_age: "7days" is not a duration; write e.g. 90s, 15m, 2h, 7d or 1d12h`,
		},
		{
			name: "retention not a mapping",
			src:  "logs:\n  retention: 7d\n",
			want: file + `:2: logs.retention: expected a mapping with max_age: (e.g. 720h) and/or max_size: (e.g. 500MB), got "7d"`,
		},
		{
			name: "negative secrets timeout",
			src:  "secrets:\n  timeout: -5s\n",
			want: file + `:2: secrets.timeout: negative duration -5s; …`,
		},
		{
			name: "bad start through an alias is reported at the alias",
			src:  "servers:\n  a:\n    command: x\n    cwd: &s later\n  b:\n    command: y\n    start: *s\n",
			want: file + `:7: servers.b.start: unknown start "later"; …`,
		},
		{
			name: "syntax error",
			src:  "servers:\n  a:\n    command: x\n   args: [\n",
			want: file + `:4: invalid YAML: did not find expected key (check the indentation …`,
		},
		{
			name: "unterminated quote",
			src:  "servers:\n  a:\n    command: \"x\n    args: []\n",
			want: file + `:3: invalid YAML: …`,
		},
		{
			name: "invalid CEL condition",
			src:  "servers: {}\npolicy:\n  rules:\n    - server: github\n      when: 'args.repo.startsWith(\"acme/\") && nosuch'\n      effect: allow\n",
			want: file + `:5: policy.rules[0].when: column 34 of the condition: undeclared reference to 'nosuch' (conditions see args, identity, server, tool and kind), in "args.repo.startsWith(\"acme/\") && nosuch"`,
		},
		{
			name: "CEL condition in a block scalar",
			src:  "policy:\n  rules:\n    - effect: deny\n      when: |\n        server == \"a\" &&\n        1 + \"x\" == 2\n",
			want: file + `:6: policy.rules[0].when: column 3 of the condition: found no matching overload for '_+_' applied to '(int, string)'…`,
		},
		{
			name: "bad glob in a grant",
			src:  "policy:\n  teams:\n    web:\n      servers:\n        github: {tools: {allow: [ok, \"[bad\"]}}\n",
			want: file + `:5: policy.teams.web.servers.github.tools.allow[1]: "[bad" is not a valid glob …`,
		},
		{
			name: "unknown effect",
			src:  "policy:\n  default: maybe\n",
			want: file + `:2: policy.default: unknown default "maybe"; write allow or deny`,
		},
		{
			name: "unknown key in a grant",
			src:  "policy:\n  teams:\n    web:\n      server: {github: {}}\n",
			want: file + `:4: policy.teams.web: unknown key "server" (did you mean "servers"?); allowed keys: servers`,
		},
		{
			name: "members outside a managed policy",
			src:  "policy:\n  members: [{user: ana, team: web}]\n",
			want: file + `:2: policy.members: only a managed policy assigns teams and roles to users; …`,
		},
		{
			name: "profile glob, with another problem after it",
			src:  "profiles:\n  cursor:\n    servers: [\"[x\"]\n    match: {client: \"[y\"}\n",
			want: file + `:3: profiles.cursor.servers[0]: "[x" is not a valid glob (syntax error in pattern); globs use *, ? and [...] as in path.Match (and 1 more problem: ` + file + `:4: profiles.cursor.match.client: …`,
		},
		{
			name: "identity headers on a local server",
			src:  "servers:\n  a:\n    command: x\n    identity: {headers: {user: X-User}}\n",
			want: file + `:4: servers.a.identity.headers: only valid for a remote server (one with url:); …`,
		},
		{
			name: "bad identity header name",
			src:  "servers:\n  a:\n    url: https://example.com/mcp\n    identity: {headers: {user: \"X User\"}}\n",
			want: file + `:4: servers.a.identity.headers.user: bad header name "X User"; …`,
		},
		{
			name: "tab indentation",
			src:  "servers:\n  a:\n\tcommand: x\n",
			want: file + `:3: invalid YAML: …`,
		},
		{
			name: "two documents",
			src:  "servers: {}\n---\nservers: {}\n",
			want: file + `:2: found a second YAML document (after ---); keep the whole configuration in one document`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(file, []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error", err)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error:\n got %s\nwant %s", got, tt.want)
				}
			} else if got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Count(got, "\n") > 0 {
				t.Errorf("error spans several lines: %q", got)
			}
		})
	}
}
