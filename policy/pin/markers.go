package pin

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// instructionPhrases are the phrasings of instructions hidden in tool
// descriptions that address the model rather than describe the tool.
var instructionPhrases = regexp.MustCompile(`(?i)\b(?:` +
	`(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|other)\s+(?:instructions?|prompts?|rules|directions)` +
	`|do\s+not\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to|let)\s+the\s+user` +
	`|without\s+(?:telling|informing|asking)\s+the\s+user` +
	`|(?:new|updated|real)\s+system\s+(?:prompt|instructions?)` +
	`)|<\s*/?\s*(?:important|system|instructions?)\s*>`)

// Markers checks a tool's description for hidden-instruction markers:
// zero-width and bidirectional control characters, phrases that address
// the model ("ignore previous instructions"), and mentions of tools of
// other servers, named as the agent sees them (others). It returns one
// readable flag per kind found, sorted; nil for none.
func Markers(description string, others []string) []string {
	var flags []string
	zw, bidi := 0, 0
	for _, r := range description {
		switch {
		case r == '\u200b', r == '\u200c', r == '\u200d', r == '\u2060', r == '\ufeff', r == '\u180e', r == '\u00ad':
			zw++
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			bidi++
		case r >= 0xe0000 && r <= 0xe007f: // tag characters: invisible ASCII
			zw++
		}
	}
	if zw > 0 {
		flags = append(flags, fmt.Sprintf("invisible characters (%d zero-width or tag)", zw))
	}
	if bidi > 0 {
		flags = append(flags, fmt.Sprintf("bidirectional control characters (%d)", bidi))
	}
	if m := instructionPhrases.FindString(description); m != "" {
		flags = append(flags, fmt.Sprintf("instruction to the model: %q", strings.Join(strings.Fields(m), " ")))
	}
	var named []string
	for _, o := range others {
		if o != "" && containsName(description, o) {
			named = append(named, o)
		}
	}
	if len(named) > 0 {
		sort.Strings(named)
		flags = append(flags, "mentions other servers' tools: "+strings.Join(named, ", "))
	}
	sort.Strings(flags)
	return flags
}

// containsName reports whether name occurs in s as a whole name: not as a
// part of a longer identifier.
func containsName(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !identByte(s[j-1])) && (end == len(s) || !identByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func identByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
