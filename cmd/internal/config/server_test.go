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
