package mux

import (
	"testing"
	"time"
)

func TestCallTimeoutFor(t *testing.T) {
	s := ServerSpec{CallTimeout: time.Minute, ToolTimeouts: map[string]time.Duration{
		"export":      10 * time.Minute,
		"export_*":    5 * time.Minute,
		"export_big*": 30 * time.Minute,
		"*":           2 * time.Minute,
	}}
	for tool, want := range map[string]time.Duration{
		"export":         10 * time.Minute, // exact wins
		"export_csv":     5 * time.Minute,
		"export_big_one": 30 * time.Minute, // longest glob wins
		"other":          2 * time.Minute,
	} {
		if got := s.CallTimeoutFor(tool); got != want {
			t.Errorf("CallTimeoutFor(%q) = %v, want %v", tool, got, want)
		}
	}
	if got := (&ServerSpec{CallTimeout: time.Minute}).CallTimeoutFor("x"); got != time.Minute {
		t.Errorf("no overrides: %v", got)
	}
}
