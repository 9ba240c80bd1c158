package keystore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds each keychain operation when
// [KeyringOptions].Timeout is zero. It leaves time for a user to answer a
// keychain's unlock prompt.
const DefaultTimeout = 10 * time.Second

// KeyringOptions configures a [Keyring]. The zero value means defaults.
type KeyringOptions struct {
	// Service is the keychain service name; empty means [Service].
	Service string
	// Timeout bounds each operation; zero means [DefaultTimeout].
	Timeout time.Duration

	backend backend // tests replace the OS keychain
}

// backend is the part of go-keyring a Keyring uses.
type backend interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// osBackend is go-keyring, after a check that the keychain can be reached
// without side effects (see preflight).
type osBackend struct{}

func (osBackend) Set(service, user, password string) error {
	if err := preflight(); err != nil {
		return err
	}
	return keyring.Set(service, user, password)
}

func (osBackend) Get(service, user string) (string, error) {
	if err := preflight(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (osBackend) Delete(service, user string) error {
	if err := preflight(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

// Keyring is a [Store] in the OS keychain: macOS Keychain, Windows
// Credential Manager, or a Secret Service on Linux and the BSDs.
//
// Keychain calls cannot be cancelled, and a locked or absent keychain may
// never answer, so each operation runs in a goroutine of its own, bounded by
// the timeout. Operations run one at a time: while one that timed out is
// still waiting, later ones fail at once instead of piling up.
type Keyring struct {
	service string
	timeout time.Duration
	be      backend
	sem     chan struct{} // held by the goroutine talking to the keychain
	stuck   atomic.Bool   // an operation outlived its timeout and still runs
}

// NewKeyring returns a [Keyring]; opts may be nil.
func NewKeyring(opts *KeyringOptions) *Keyring {
	var o KeyringOptions
	if opts != nil {
		o = *opts
	}
	if o.Service == "" {
		o.Service = Service
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.backend == nil {
		o.backend = osBackend{}
	}
	return &Keyring{service: o.Service, timeout: o.Timeout, be: o.backend, sem: make(chan struct{}, 1)}
}

// Get implements [Getter].
func (k *Keyring) Get(ctx context.Context, name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	var v string
	err := k.do(ctx, func() error {
		var err error
		v, err = k.be.Get(k.service, name)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return "", &NotFoundError{Name: name}
	}
	return v, k.classify(err)
}

// Set implements [Store]. Values over [MaxValueLen] bytes and empty values
// are refused.
func (k *Keyring) Set(ctx context.Context, name, value string) error {
	if err := CheckValue(name, value); err != nil {
		return err
	}
	return k.classify(k.do(ctx, func() error {
		if err := k.be.Set(k.service, name, value); err != nil {
			return err
		}
		return k.updateIndex(func(ix index) bool { return ix.add(name) })
	}))
}

// Delete implements [Store].
func (k *Keyring) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := k.do(ctx, func() error {
		err := k.be.Delete(k.service, name)
		// Drop the name from the index either way: a name whose value
		// vanished (deleted with another tool) should not linger.
		if ierr := k.updateIndex(func(ix index) bool { return ix.remove(name) }); err == nil {
			err = ierr
		}
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return &NotFoundError{Name: name}
	}
	return k.classify(err)
}

// List implements [Store]. Keychains cannot enumerate entries, so the names
// come from an index kept next to the secrets, under the same service.
func (k *Keyring) List(ctx context.Context) ([]string, error) {
	var ix index
	err := k.do(ctx, func() error {
		var err error
		ix, err = k.readIndex()
		return err
	})
	if err != nil {
		return nil, k.classify(err)
	}
	return ix.sorted(), nil
}

// errTimeout is the cause of an [*UnavailableError] for a keychain that did
// not answer.
type errTimeout struct {
	d     time.Duration
	stuck bool
}

func (e errTimeout) Error() string {
	if e.stuck {
		return fmt.Sprintf("an earlier request got no answer within %s and is still waiting", e.d)
	}
	return fmt.Sprintf("no answer within %s", e.d)
}

// do runs op against the keychain, bounded by ctx and the timeout.
func (k *Keyring) do(ctx context.Context, op func() error) error {
	t := time.NewTimer(k.timeout)
	defer t.Stop()
	if k.stuck.Load() {
		select {
		case k.sem <- struct{}{}: // it answered meanwhile
		default:
			return errTimeout{k.timeout, true}
		}
	} else {
		select {
		case k.sem <- struct{}{}:
		case <-t.C:
			return errTimeout{k.timeout, true}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	k.stuck.Store(false)
	done := make(chan error, 1)
	go func() {
		err := op()
		k.stuck.Store(false)
		<-k.sem
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-t.C:
		k.stuck.Store(true)
		return errTimeout{k.timeout, false}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// classify turns a keychain failure into an [*UnavailableError], leaving
// mcpgw's own errors and the caller's context errors as they are.
func (k *Keyring) classify(err error) error {
	var (
		nf  *NotFoundError
		bad badKeyError
	)
	switch {
	case err == nil, errors.As(err, &nf), errors.As(err, &bad), errors.Is(err, ErrTooLarge),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%w (the keychain refused it)", ErrTooLarge)
	}
	return &UnavailableError{Err: err}
}

// CheckValue validates a name and value before they are stored: a valid
// name, a value neither empty nor over [MaxValueLen] bytes.
func CheckValue(name, value string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("secret %q: empty value; to remove a secret use: mcpgw secret rm %s", name, name)
	}
	if len(value) > MaxValueLen {
		return fmt.Errorf("secret %q: %w (got %d bytes)", name, ErrTooLarge, len(value))
	}
	return nil
}
