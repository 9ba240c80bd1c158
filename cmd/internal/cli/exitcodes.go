package cli

import (
	"errors"
)

// Exit codes, in one place. The README's "Exit codes" section mirrors this
// table; a test keeps them in step.
const (
	ExitOK          = 0   // success
	ExitError       = 1   // any other failure
	ExitUsage       = 2   // bad command line: unknown flag, missing argument
	ExitConfig      = 3   // the configuration file is missing, unreadable or invalid
	ExitToolError   = 4   // mcpgw call: the tool ran and returned isError
	ExitUnavailable = 5   // a server could not be started or reached
	ExitSecret      = 6   // a secret is missing, or the OS keychain cannot be used
	ExitDenied      = 7   // the policy denies it: mcpgw policy explain, mcpgw call (pinning holds it, too)
	ExitInterrupted = 130 // Ctrl-C (SIGINT)
	ExitTerminated  = 143 // SIGTERM
)

// exitCodes documents each code for `mcpgw help exit-codes` and the README.
var exitCodes = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success"},
	{ExitError, "failure not covered below"},
	{ExitUsage, "bad command line (unknown command or flag, missing argument)"},
	{ExitConfig, "configuration file missing, unreadable or invalid"},
	{ExitToolError, "mcpgw call: the tool returned a result with isError: true"},
	{ExitUnavailable, "a server could not be started or reached"},
	{ExitSecret, "a secret is missing, or the OS keychain cannot be used"},
	{ExitDenied, "the policy denies it (mcpgw policy explain; mcpgw call of a tool the policy hides or pinning holds)"},
	{ExitInterrupted, "interrupted (Ctrl-C, SIGINT)"},
	{ExitTerminated, "terminated (SIGTERM)"},
}

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}
