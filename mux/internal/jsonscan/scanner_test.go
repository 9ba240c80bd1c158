package jsonscan

import "testing"

// TestValue scans one value at the start of each input and checks where
// it ends, and that a value the slice cuts off is refused.
func TestValue(t *testing.T) {
	for _, tc := range []struct {
		in  string
		end int // -1: refused
	}{
		{`{"a":[1,"]}"],"b":{}} ,`, 21},
		{`"x\"y",`, 6},
		{`-1.5e3}`, 6},
		{`true]`, 4},
		{`[[]]`, 4},
		{`{"a":1`, -1},
		{`12`, -1}, // cut off: more digits may follow
		{`"abc`, -1},
		{`{:`, -1},
	} {
		s := Scanner{B: []byte(tc.in)}
		ok := s.Value()
		switch {
		case tc.end < 0 && ok:
			t.Errorf("%s: accepted up to %d, want refused", tc.in, s.I)
		case tc.end >= 0 && (!ok || s.I != tc.end):
			t.Errorf("%s: ok %v at %d, want %d", tc.in, ok, s.I, tc.end)
		}
	}
}
