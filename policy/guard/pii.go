package guard

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// The PII types [PII] can look for, as configuration names them.
const (
	PIIEmail = "email"
	PIIPhone = "phone"
	PIICard  = "card"
	PIIIBAN  = "iban"
	PIISSN   = "ssn"
	PIIIP    = "ip"
)

// PIITypes lists every PII type, in the order configuration shows them.
var PIITypes = []string{PIIEmail, PIIPhone, PIICard, PIIIBAN, PIISSN, PIIIP}

// piiKind is one PII type: a pattern that finds candidates, and a check
// that keeps the ones that are what they look like (a Luhn-valid card
// number, an IBAN whose mod-97 check holds, an address that parses).
type piiKind struct {
	name  string
	re    *regexp.Regexp
	valid func(string) bool
	// hint is a byte every candidate holds, for the prefilter; 0 for none.
	hint byte
	// spans finds where candidates may be (runs of the bytes they are
	// made of), so the pattern runs there and not over the whole text.
	spans func(string) [][2]int
}

var piiKinds = []piiKind{
	{PIIEmail, regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b`), nil, '@', around('@', 64, 256)},
	// North American numbers with separators, and international ones in
	// E.164 form (+ and 8 to 15 digits, with optional separators).
	{PIIPhone, regexp.MustCompile(`(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)[ .-]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b|\+\d(?:[ .-]?\d){7,14}\b`), validPhone, 0, runs(numberByte, 10)},
	{PIICard, regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`), validCard, 0, runs(numberByte, 13)},
	{PIIIBAN, regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b`), validIBAN, 0, runs(ibanByte, 4)},
	{PIISSN, regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`), validSSN, '-', runs(numberByte, 9)},
	{PIIIP, regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[0-9A-Za-z]+)?`), validIP, 0, ipRuns},
}

func numberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '+'
}

func ibanByte(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == ' ' }

func ipByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == ':' || c == '%'
}

// runs returns a spans function: the runs of bytes in, holding at least
// minDigits digits, a byte wider each side so \b sees its neighbours.
func runs(in func(byte) bool, minDigits int) func(string) [][2]int {
	return func(s string) [][2]int {
		var out [][2]int
		for i := 0; i < len(s); {
			if !in(s[i]) {
				i++
				continue
			}
			j, d := i, 0
			for ; j < len(s) && in(s[j]); j++ {
				if '0' <= s[j] && s[j] <= '9' {
					d++
				}
			}
			if d >= minDigits {
				out = append(out, [2]int{max(0, i-1), min(len(s), j+1)})
			}
			i = j
		}
		return out
	}
}

// ipRuns are the runs of address bytes with three dots or two colons.
func ipRuns(s string) [][2]int {
	out := runs(ipByte, 1)(s)
	keep := out[:0]
	for _, w := range out {
		t := s[w[0]:w[1]]
		if strings.Count(t, ".") >= 3 || strings.Count(t, ":") >= 2 {
			keep = append(keep, w)
		}
	}
	return keep
}

// around returns a spans function: before bytes before and after bytes
// after each c, merged.
func around(c byte, before, after int) func(string) [][2]int {
	return func(s string) [][2]int {
		var out [][2]int
		for i := 0; i < len(s); i++ {
			if s[i] != c {
				continue
			}
			start, end := max(0, i-before), min(len(s), i+after)
			if n := len(out); n > 0 && start <= out[n-1][1] {
				out[n-1][1] = end
			} else {
				out = append(out, [2]int{start, end})
			}
		}
		return out
	}
}

// PII is the personal data detector: the types it was made with, each
// found by a pattern and kept only when a validator agrees.
type PII struct {
	kinds []piiKind
}

// NewPII returns a PII detector for types (names from [PIITypes]); nil or
// empty means all of them. Unknown names are ignored: configuration checks
// them.
func NewPII(types []string) *PII {
	p := &PII{}
	for _, k := range piiKinds {
		if len(types) == 0 || slices.Contains(types, k.name) {
			p.kinds = append(p.kinds, k)
		}
	}
	return p
}

// Name implements [Detector].
func (*PII) Name() string { return "pii" }

// Inspect implements [Detector].
func (p *PII) Inspect(_ context.Context, pl Payload) []Finding {
	var out []Finding
	for _, k := range p.kinds {
		if k.hint != 0 && bytes.IndexByte([]byte(pl.Lower), k.hint) < 0 {
			continue
		}
		for _, w := range k.spans(pl.Text) {
			for _, m := range k.re.FindAllStringIndex(pl.Text[w[0]:w[1]], -1) {
				m[0], m[1] = m[0]+w[0], m[1]+w[0]
				if k.valid != nil && !k.valid(pl.Text[m[0]:m[1]]) {
					continue
				}
				out = append(out, Finding{Rule: "pii-" + k.name, Detector: "pii", Path: pl.Path, Start: m[0], End: m[1]})
			}
		}
	}
	return out
}

// digits returns the decimal digits of s.
func digits(s string) []byte {
	d := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			d = append(d, s[i]-'0')
		}
	}
	return d
}

// validPhone keeps numbers of 10 to 15 digits that are not all one digit.
func validPhone(s string) bool {
	d := digits(s)
	if len(d) < 10 || len(d) > 15 {
		return false
	}
	return bytes.Count(d, d[:1]) != len(d)
}

// validCard keeps 13 to 19 digit numbers with an issuer's prefix (Visa,
// Mastercard, Amex, Discover, Diners, JCB, UnionPay) that pass Luhn.
func validCard(s string) bool {
	d := digits(s)
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	switch {
	case d[0] == 4, d[0] == 5 && d[1] >= 1 && d[1] <= 5, d[0] == 2 && d[1] >= 2 && d[1] <= 7,
		d[0] == 3 && (d[1] == 4 || d[1] == 7 || d[1] == 0 || d[1] == 6 || d[1] == 8 || d[1] == 5), d[0] == 6:
	default:
		return false
	}
	return luhn(d)
}

// luhn is the Luhn check over decimal digits.
func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if (len(d)-1-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// ibanLengths is each country's IBAN length (SWIFT's registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// validIBAN checks the country's length and the mod-97 check digits.
func validIBAN(s string) bool {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			b = append(b, s[i])
		}
	}
	if n, ok := ibanLengths[string(b[:2])]; !ok || n != len(b) {
		return false
	}
	rem := 0
	for _, c := range append(b[4:], b[:4]...) {
		switch {
		case '0' <= c && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case 'A' <= c && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validSSN keeps numbers the SSA could issue: area not 000, 666 or 9xx,
// group not 00, serial not 0000.
func validSSN(s string) bool {
	area, group, serial := s[:3], s[4:6], s[7:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

// validIP keeps what parses as an IPv4 or IPv6 address; IPv6 needs more
// than the unspecified "::" and at least one hex digit in three groups,
// so times (12:30:45) and C++ scopes (a::b) stay out.
func validIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	if a.Is4() {
		return true
	}
	return !a.IsUnspecified() && bytes.Count([]byte(s), []byte(":")) >= 2 && len(s) >= 6
}
