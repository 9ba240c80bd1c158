package config

import (
	"maps"
	"slices"
	"time"
)

// IsEnabled reports whether the server should run; unset means enabled.
func (s *Server) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// PrefixOr returns the exposed-name prefix: the server name when Prefix is
// unset, otherwise Prefix (which may be "" for no prefix).
func (s *Server) PrefixOr() string {
	if s.Prefix == nil {
		return s.Name
	}
	return *s.Prefix
}

// ConnectTimeout bounds spawning and initializing the server, defaulting to
// DefaultConnectTimeout.
func (s *Server) ConnectTimeout() time.Duration {
	if s.Timeouts.Connect > 0 {
		return s.Timeouts.Connect
	}
	return DefaultConnectTimeout
}

// CallTimeout bounds each call to the server, defaulting to
// DefaultCallTimeout.
func (s *Server) CallTimeout() time.Duration {
	if s.Timeouts.Call > 0 {
		return s.Timeouts.Call
	}
	return DefaultCallTimeout
}

// Lazy reports whether the server starts on its first call rather than with
// the gateway.
func (s *Server) Lazy() bool { return s.Start == "lazy" }

// IsRemote reports whether the server is a remote endpoint (URL) rather than
// a local command.
func (s *Server) IsRemote() bool { return s.URL != "" }

// Equal reports whether s and other define the same server, ignoring Line.
// Nil and empty lists or maps are equal. Two nil servers are equal.
func (s *Server) Equal(other *Server) bool {
	if s == nil || other == nil {
		return s == other
	}
	return s.Name == other.Name &&
		s.Command == other.Command &&
		slices.Equal(s.Args, other.Args) &&
		maps.Equal(s.Env, other.Env) &&
		s.Cwd == other.Cwd &&
		s.URL == other.URL &&
		s.Transport == other.Transport &&
		maps.Equal(s.Headers, other.Headers) &&
		ptrEqual(s.Prefix, other.Prefix) &&
		ptrEqual(s.Enabled, other.Enabled) &&
		s.Start == other.Start &&
		slices.Equal(s.Tools.Allow, other.Tools.Allow) &&
		slices.Equal(s.Tools.Deny, other.Tools.Deny) &&
		s.Timeouts.Equal(other.Timeouts) &&
		s.ProtocolVersion == other.ProtocolVersion
}

// ptrEqual compares two optional values.
func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
