// Command oauthclient is the conformance suite's client command for mcpgw
// (conformance client --suite auth --command "oauthclient"): given the
// scenario's server URL, it writes a configuration naming it (with the
// scenario's client credentials, stored as secrets, when it passes some),
// logs in with `mcpgw auth login`, whose browser is this same program
// (BROWSER="oauthclient --follow"), then lists the tools with `mcpgw tools`
// and calls one with `mcpgw call`.
//
// Environment: MCPGW_BIN is the mcpgw binary; MCP_CONFORMANCE_SCENARIO and
// MCP_CONFORMANCE_CONTEXT come from the suite; OAUTHCLIENT_DIR is where
// each scenario gets a directory of its own.
//
// With --follow URL it is a headless browser: it follows the authorization
// server's redirects, which end at mcpgw's loopback redirect.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--follow" {
		follow(os.Args[2])
		return
	}
	if len(os.Args) != 2 {
		fail("usage: oauthclient SERVER_URL, or oauthclient --follow URL")
	}
	if err := run(os.Args[1]); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "oauthclient:", msg)
	os.Exit(1)
}

// follow GETs u and every redirect after it, as a browser whose user
// approves at once.
func follow(u string) {
	resp, err := http.Get(u)
	if err != nil {
		fail("following " + u + ": " + err.Error())
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		fail(fmt.Sprintf("following %s: %s", u, resp.Status))
	}
}

func run(serverURL string) error {
	scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
	var cc map[string]any
	if c := os.Getenv("MCP_CONFORMANCE_CONTEXT"); c != "" {
		if err := json.Unmarshal([]byte(c), &cc); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
	}
	if scenario == "" {
		scenario, _ = cc["name"].(string)
	}
	// A server name per scenario: the suite runs them in parallel, and
	// logins are kept per server name.
	name := strings.NewReplacer("/", "-", ".", "-").Replace(strings.TrimPrefix(scenario, "auth/"))
	if name == "" {
		name = "conf"
	}
	dir := filepath.Join(os.Getenv("OAUTHCLIENT_DIR"), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	mcpgw := os.Getenv("MCPGW_BIN")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), "MCPGW_CONFIG="+filepath.Join(dir, "config.yaml"), "MCPGW_DB="+filepath.Join(dir, "record.db"),
		"BROWSER="+self+" --follow")
	str := func(k string) string { s, _ := cc[k].(string); return s }

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "servers:\n  %s:\n    url: %q\n    oauth:\n", name, serverURL)
	switch {
	case str("private_key_pem") != "":
		if err := setSecret(mcpgw, env, name+"-key", str("private_key_pem")); err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "      grant: client_credentials\n      client_id: %q\n      private_key: ${secret:%s-key}\n", str("client_id"), name)
	case strings.HasPrefix(scenario, "auth/client-credentials"):
		if err := setSecret(mcpgw, env, name+"-secret", str("client_secret")); err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "      grant: client_credentials\n      client_id: %q\n      client_secret: ${secret:%s-secret}\n", str("client_id"), name)
	case str("client_id") != "":
		fmt.Fprintf(&cfg, "      client_id: %q\n", str("client_id"))
		if s := str("client_secret"); s != "" {
			if err := setSecret(mcpgw, env, name+"-secret", s); err != nil {
				return err
			}
			fmt.Fprintf(&cfg, "      client_secret: ${secret:%s-secret}\n", name)
		}
	default:
		// The suite's Client ID Metadata Document URL, used where the
		// authorization server supports them; else mcpgw registers.
		cfg.WriteString("      client_metadata_url: https://conformance-test.local/client-metadata.json\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg.String()), 0o600); err != nil {
		return err
	}
	if err := mcpgwRun(mcpgw, env, nil, "auth", "login", name); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := mcpgwRun(mcpgw, env, &out, "tools", "-o", "json"); err != nil {
		return err
	}
	var view struct {
		Tools []struct {
			Tool struct {
				Name string `json:"name"`
			} `json:"tool"`
			Server string `json:"server"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(out.Bytes(), &view); err != nil {
		return fmt.Errorf("mcpgw tools -o json: %w", err)
	}
	if len(view.Tools) == 0 {
		return fmt.Errorf("mcpgw tools lists no tools of %s", name)
	}
	return mcpgwRun(mcpgw, env, nil, "call", view.Tools[0].Tool.Name)
}

// setSecret stores value as secret name, through stdin.
func setSecret(mcpgw string, env []string, name, value string) error {
	cmd := exec.Command(mcpgw, "secret", "set", name)
	cmd.Env, cmd.Stdin, cmd.Stderr = env, strings.NewReader(value), os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mcpgw secret set %s: %w", name, err)
	}
	return nil
}

// mcpgwRun runs mcpgw with args; stdout goes to out (or stderr).
func mcpgwRun(mcpgw string, env []string, out io.Writer, args ...string) error {
	cmd := exec.Command(mcpgw, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, os.Stderr
	if out == nil {
		cmd.Stdout = os.Stderr
	}
	fmt.Fprintf(os.Stderr, "$ mcpgw %s\n", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mcpgw %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
