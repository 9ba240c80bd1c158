// Package jsonscan walks JSON bytes in place, without decoding them: the
// raw paths use it to find a message's id in a line too long to hold, and
// the members of an object they pass on mostly untouched.
package jsonscan

// Scanner is a minimal JSON tokenizer over B from position I, which may
// be a truncated slice: every method reports false when the input ends
// or does not fit, and leaves I where it stopped.
type Scanner struct {
	B []byte
	I int
}

// WS skips JSON whitespace.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\r', '\n':
			s.I++
		default:
			return
		}
	}
}

// Eat consumes c if it comes next.
func (s *Scanner) Eat(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Str scans a string and returns it with its quotes.
func (s *Scanner) Str() ([]byte, bool) {
	start := s.I
	if !s.Eat('"') {
		return nil, false
	}
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case '\\':
			s.I += 2
		case '"':
			s.I++
			return s.B[start:s.I], true
		default:
			s.I++
		}
	}
	return nil, false
}

// Scalar scans a string, number, true, false or null.
func (s *Scanner) Scalar() bool {
	if s.I >= len(s.B) {
		return false
	}
	if s.B[s.I] == '"' {
		_, ok := s.Str()
		return ok
	}
	start := s.I
	for s.I < len(s.B) {
		c := s.B[s.I]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		if c == '{' || c == '[' || c == '"' || c == ':' {
			return false
		}
		s.I++
	}
	// A scalar cut off by the end of the slice is not complete.
	return s.I > start && s.I < len(s.B)
}

// Value scans any JSON value, skipping nested objects and arrays.
func (s *Scanner) Value() bool {
	if s.I >= len(s.B) {
		return false
	}
	if c := s.B[s.I]; c != '{' && c != '[' {
		return s.Scalar()
	}
	depth := 0
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case '"':
			if _, ok := s.Str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.I++
				return true
			}
		}
		s.I++
	}
	return false
}
