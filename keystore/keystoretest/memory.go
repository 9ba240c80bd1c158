// Package keystoretest provides an in-memory [keystore.Store] for unit
// tests. The product always uses the OS keychain.
package keystoretest

import (
	"context"
	"slices"
	"sync"

	"github.com/mcpgw/mcpgw/keystore"
)

// Memory is a [keystore.Store] held in memory. Its zero value is empty and
// ready to use.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
	// blobs are the values kept with [keystore.Blobs].
	blobs map[string]string
	// Err, when set, is returned by every operation (a broken keychain).
	Err error
}

// New returns a Memory holding values.
func New(values map[string]string) *Memory {
	m := &Memory{m: map[string]string{}}
	for k, v := range values {
		m.m[k] = v
	}
	return m
}

func (s *Memory) Get(_ context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return "", s.Err
	}
	v, ok := s.m[name]
	if !ok {
		return "", &keystore.NotFoundError{Name: name}
	}
	return v, nil
}

func (s *Memory) Set(_ context.Context, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if err := keystore.CheckValue(name, value); err != nil {
		return err
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[name] = value
	return nil
}

func (s *Memory) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.m[name]; !ok {
		return &keystore.NotFoundError{Name: name}
	}
	delete(s.m, name)
	return nil
}

func (s *Memory) List(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	var names []string
	for n := range s.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// GetBlob implements [keystore.Blobs]; blobs live apart from the secrets.
func (s *Memory) GetBlob(_ context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return "", s.Err
	}
	v, ok := s.blobs[name]
	if !ok {
		return "", &keystore.NotFoundError{Name: name}
	}
	return v, nil
}

// SetBlob implements [keystore.Blobs].
func (s *Memory) SetBlob(_ context.Context, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.blobs == nil {
		s.blobs = map[string]string{}
	}
	s.blobs[name] = value
	return nil
}

// DeleteBlob implements [keystore.Blobs].
func (s *Memory) DeleteBlob(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	delete(s.blobs, name)
	return nil
}
