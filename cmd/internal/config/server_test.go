package config

import (
	"testing"
	"time"
)

func TestServerHelpers(t *testing.T) {
	tr, f, empty, p := true, false, "", "gh"
	tests := []struct {
		s             Server
		enabled, lazy bool
		prefix        string
		connect, call time.Duration
	}{
		{s: Server{Name: "a"}, enabled: true, prefix: "a", connect: DefaultConnectTimeout, call: DefaultCallTimeout},
		{s: Server{Name: "a", Enabled: &tr, Prefix: &p, Start: "lazy"}, enabled: true, lazy: true, prefix: "gh", connect: DefaultConnectTimeout, call: DefaultCallTimeout},
		{s: Server{Name: "a", Enabled: &f, Prefix: &empty, Start: "eager", Timeouts: Timeouts{Connect: time.Second, Call: time.Minute}}, prefix: "", connect: time.Second, call: time.Minute},
	}
	for i, tt := range tests {
		s := &tt.s
		if s.IsEnabled() != tt.enabled || s.Lazy() != tt.lazy || s.PrefixOr() != tt.prefix || s.ConnectTimeout() != tt.connect || s.CallTimeout() != tt.call {
			t.Errorf("%d: IsEnabled=%v Lazy=%v PrefixOr=%q ConnectTimeout=%v CallTimeout=%v; want %v %v %q %v %v",
				i, s.IsEnabled(), s.Lazy(), s.PrefixOr(), s.ConnectTimeout(), s.CallTimeout(), tt.enabled, tt.lazy, tt.prefix, tt.connect, tt.call)
		}
	}
}

func TestServerEqual(t *testing.T) {
	base := func() *Server {
		p, e := "x", true
		return &Server{Name: "a", Line: 3, Command: "c", Args: []string{"1"}, Env: map[string]string{"K": "v"}, Prefix: &p, Enabled: &e,
			Tools: ToolFilter{Allow: []string{"r*"}}, Timeouts: Timeouts{Call: time.Second}}
	}
	same := base()
	same.Line = 99
	if !base().Equal(same) {
		t.Error("servers differing only in Line are not Equal")
	}
	a, b := &Server{Name: "a"}, &Server{Name: "a", Args: []string{}, Env: map[string]string{}}
	if !a.Equal(b) {
		t.Error("nil and empty lists/maps are not Equal")
	}
	changes := []func(*Server){
		func(s *Server) { s.Name = "b" },
		func(s *Server) { s.Args = append(s.Args, "2") },
		func(s *Server) { s.Env["K"] = "w" },
		func(s *Server) { p := "y"; s.Prefix = &p },
		func(s *Server) { s.Prefix = nil },
		func(s *Server) { s.Enabled = nil },
		func(s *Server) { s.Tools.Deny = []string{"d"} },
		func(s *Server) { s.Timeouts.Connect = time.Second },
		func(s *Server) { s.Headers = map[string]string{"H": "v"} },
		func(s *Server) { s.ProtocolVersion = "2025-06-18" },
	}
	for i, change := range changes {
		s := base()
		change(s)
		if base().Equal(s) || s.Equal(base()) {
			t.Errorf("change %d not detected", i)
		}
	}
	var nilServer *Server
	if !nilServer.Equal(nil) || nilServer.Equal(a) || a.Equal(nil) {
		t.Error("nil handling wrong")
	}
}
