package config

import "time"

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
