package keystore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// Service is the keychain service name every mcpgw secret is stored under.
const Service = "mcpgw"

// MaxValueLen is the largest value mcpgw stores, in bytes. It is the
// smallest limit of the supported keychains (Windows Credential Manager:
// 2560 bytes), applied on every OS so a config behaves the same everywhere.
const MaxValueLen = 2560

// Getter looks up a secret's value by name.
type Getter interface {
	// Get returns the value stored under name, an error matching
	// [ErrNotFound] when there is none, or an [*UnavailableError] when the
	// keychain cannot be reached.
	Get(ctx context.Context, name string) (string, error)
}

// Store is a keychain of named secrets.
type Store interface {
	Getter
	// Set stores value under name, replacing any previous value.
	Set(ctx context.Context, name, value string) error
	// Delete removes name; deleting a name that is not stored matches
	// [ErrNotFound].
	Delete(ctx context.Context, name string) error
	// List returns the stored names, sorted.
	List(ctx context.Context) ([]string, error)
}

// ErrNotFound is matched (errors.Is) by the error for a name that is not
// stored.
var ErrNotFound = errors.New("secret not found")

// NotFoundError says which secret is missing and how to set it.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("secret %q is not set; set it with: mcpgw secret set %s", e.Name, e.Name)
}

// Is makes a *NotFoundError match [ErrNotFound].
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// UnavailableError reports a keychain that cannot be used: absent, locked,
// or not answering. Its message says how to fix that on this OS.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("the OS keychain is not available: %s; %s", describe(e.Err), unavailableHint)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrTooLarge is matched by the error for a value over [MaxValueLen].
var ErrTooLarge = fmt.Errorf("secret value is larger than %d bytes, the smallest limit among OS keychains; store a file path or a shorter token instead", MaxValueLen)

// nameRE is compiled on first use: the {0,63} expands to a large program,
// and every process (each server's supervisor too) would pay for it at start.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

// ValidName checks a secret's name: 1 to 64 letters, digits, '_', '-' and
// '.', starting with a letter or digit.
func ValidName(name string) error {
	if !nameRE().MatchString(name) {
		return fmt.Errorf("bad secret name %q; use 1 to 64 letters, digits, _, - and ., starting with a letter or digit (e.g. github-token)", name)
	}
	return nil
}
