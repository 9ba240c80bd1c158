package toolindex

import (
	"strings"
	"unicode"
)

// Words splits identifiers into the words they are made of, so the
// tokenizer sees them: snake_case, kebab-case and camelCase alike
// ("getTinyImage" → "get tiny image", "read_graph" → "read graph",
// "HTTPServer" → "http server").
func Words(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			b.WriteByte(' ')
			continue
		}
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// matchExpr makes an FTS5 query of what a person (or a model) typed: each
// word quoted (so nothing in it is FTS5 syntax), any one of them enough,
// words that say nothing about a tool left out, and words tools rarely use
// joined by the ones they do use (see synonyms). BM25 then ranks the tools
// that match more, and rarer, words first.
func matchExpr(query string) string {
	var terms []string
	seen := map[string]bool{}
	for _, w := range strings.Fields(Words(query)) {
		if stopWords[w] {
			continue
		}
		for _, t := range append([]string{w}, synonyms[w]...) {
			if !seen[t] {
				seen[t] = true
				terms = append(terms, `"`+t+`"`)
			}
		}
	}
	return strings.Join(terms, " OR ")
}

// stopWords are common English words that would match descriptions for
// no reason.
var stopWords = wordSet(`a an the and or of to in on at by for from with without into onto as is are was were be been
		it its this that these those i me my we our you your he she they them their what which who whom how when where why
		do does did can could should would will shall may might must please some any all each every there here
		not no so if then than too very just also about over under up down out off again`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// synonyms joins the words people use for a task to the words tool
// definitions use for it ("folder" finds "directory", "forget" finds
// "delete"): a small thesaurus of the vocabulary of tools, since a model
// searching in the user's words would otherwise miss a tool named in the
// developer's. Each word keeps matching itself too.
var synonyms = map[string][]string{
	"folder": {"directory"}, "folders": {"directories"}, "dir": {"directory"}, "dirs": {"directories"},
	"show": {"read", "get", "list"}, "view": {"read", "get"}, "see": {"read", "list"}, "display": {"read", "get"},
	"print": {"read", "get"}, "dump": {"read", "entire"}, "look": {"read", "get"}, "open": {"read"}, "contents": {"content", "read"},
	"make": {"create"}, "new": {"create"}, "save": {"write", "create"}, "store": {"write", "create"},
	"remember": {"memory", "create", "knowledge"}, "memorize": {"memory", "create"}, "note": {"observation", "write"},
	"forget": {"delete", "memory"}, "erase": {"delete"}, "remove": {"delete"}, "drop": {"delete"}, "destroy": {"delete"},
	"rename": {"move"}, "find": {"search"}, "locate": {"search"}, "lookup": {"search", "open"},
	"picture": {"image", "media"}, "photo": {"image", "media"}, "screenshot": {"image", "media"},
	"png": {"image", "media"}, "jpg": {"image", "media"}, "jpeg": {"image", "media"}, "gif": {"image", "media"},
	"sound": {"audio", "media"}, "mp3": {"audio", "media"}, "wav": {"audio", "media"},
	"txt": {"text", "file"}, "md": {"text", "file"}, "markdown": {"text", "file"}, "readme": {"text", "file"},
	"largest": {"sizes", "size"}, "biggest": {"sizes", "size"}, "smallest": {"sizes", "size"},
	"modified": {"info", "metadata"}, "permissions": {"info", "metadata"},
	"change": {"edit", "update"}, "modify": {"edit", "update"}, "replace": {"edit"},
	"compress": {"gzip", "zip"}, "zip": {"gzip", "compress"},
	"sum": {"add"}, "total": {"sum"}, "plus": {"add", "sum"},
	"fact": {"observation"}, "facts": {"observations"}, "person": {"entity"}, "people": {"entities"},
	"pause": {"sleep", "wait"}, "delay": {"sleep", "wait"},
	"env": {"environment"}, "variables": {"environment"},
}
