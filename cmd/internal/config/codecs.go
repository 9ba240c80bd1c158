package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// The kinds of value a key can hold, for the tables in keys.go. Checks given
// to a text kind see only set (non-empty) values; a failed check is located
// at the value as written, an alias included.

// text is a string with ${VAR} references expanded. ${secret:NAME} is
// refused: secrets go only where [template] is used.
func text(check func(string) error) codec[string] {
	return codec[string]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (string, error) {
			v, err := d.str(n, key)
			if err == nil && v != "" && check != nil {
				err = d.check(n, key, check(v))
			}
			return v, err
		},
		encode: encodeText,
	}
}

// template is [text] that may hold ${secret:NAME} references, kept for the
// keystore to resolve when the server starts.
func template(check func(string) error) codec[string] {
	return codec[string]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (string, error) {
			v, err := d.tmpl(n, key)
			if err == nil && v != "" && check != nil {
				err = d.check(n, key, check(v))
			}
			return v, err
		},
		encode: encodeText,
	}
}

// enum is [text] that is one of values, or unset. An unknown value reads
// "unknown KEY "VALUE"; HINT".
func enum(hint string, values ...string) codec[string] {
	return codec[string]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (string, error) {
			v, err := d.str(n, key)
			if err == nil && v != "" && !slices.Contains(values, v) {
				err = d.check(n, key, fmt.Errorf("unknown %s %q; %s", name, v, hint))
			}
			return v, err
		},
		encode: encodeText,
	}
}

func encodeText(v string) *yaml.Node {
	if v == "" {
		return nil
	}
	return strNode(v)
}

// optionalText is [text] where null (or no key) is nil, unlike "".
func optionalText(check func(string) error) codec[*string] {
	inner := text(check)
	return codec[*string]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (*string, error) {
			if isNull(n) {
				return nil, nil
			}
			v, err := inner.decode(d, n, key, name)
			if err != nil {
				return nil, err
			}
			return &v, nil
		},
		encode: func(v *string) *yaml.Node {
			if v == nil {
				return nil
			}
			return strNode(*v)
		},
	}
}

// textList is a list of [text] values, each checked with check if set;
// example shows the shape expected when the value is not a list.
func textList(example string, check func(string) error) codec[[]string] {
	return codec[[]string]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) ([]string, error) {
			return d.strList(n, key, example, check, false)
		},
		encode: encodeList,
	}
}

// templateList is a list of [template] values.
func templateList(example string) codec[[]string] {
	return codec[[]string]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) ([]string, error) {
			return d.strList(n, key, example, nil, true)
		},
		encode: encodeList,
	}
}

func encodeList(v []string) *yaml.Node {
	if len(v) == 0 {
		return nil
	}
	return listNode(v)
}

// templateMap is a mapping of names, each checked with checkName, to
// [template] values; example shows the shape expected when the value is
// not a mapping.
func templateMap(example string, checkName func(string) error) codec[map[string]string] {
	return codec[map[string]string]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (map[string]string, error) {
			return d.strMap(n, key, example, checkName)
		},
		encode: func(v map[string]string) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			return mapNode(v)
		},
	}
}

// optionalBool is true or false, nil when unset.
func optionalBool() codec[*bool] {
	return codec[*bool]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (*bool, error) {
			return d.boolean(n, key)
		},
		encode: func(v *bool) *yaml.Node {
			if v == nil {
				return nil
			}
			return boolNode(*v)
		},
	}
}

// boolean is true or false, false when unset.
func boolean() codec[bool] {
	return codec[bool]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (bool, error) {
			b, err := d.boolean(n, key)
			return b != nil && *b, err
		},
		encode: func(v bool) *yaml.Node {
			if !v {
				return nil
			}
			return boolNode(v)
		},
	}
}

// duration is a Go duration such as 30s or 1m30s, not negative; 0 when unset.
func duration() codec[time.Duration] {
	return codec[time.Duration]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (time.Duration, error) {
			return d.duration(n, key)
		},
		encode: encodeDuration,
	}
}

// age is a [duration] that may also be given in days and weeks (30d, 2w).
func age() codec[time.Duration] {
	return codec[time.Duration]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (time.Duration, error) {
			v, err := d.str(n, key)
			if err != nil || v == "" {
				return 0, err
			}
			a, perr := ParseAge(v)
			if perr != nil {
				e := d.errAt(deref(n), key, "%v", perr)
				e.Err = perr
				return 0, e
			}
			return a, d.check(deref(n), key, validateDuration(a))
		},
		encode: encodeDuration,
	}
}

func encodeDuration(v time.Duration) *yaml.Node {
	if v == 0 {
		return nil
	}
	return strNode(v.String())
}

// size is a byte size such as 500MB ([ParseSize]); 0 when unset.
func size[N int | int64]() codec[N] {
	return codec[N]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (N, error) {
			v, err := d.str(n, key)
			if err != nil || v == "" {
				return 0, err
			}
			s, serr := ParseSize(v)
			return N(s), d.check(deref(n), key, serr)
		},
		encode: func(v N) *yaml.Node {
			if v == 0 {
				return nil
			}
			return strNode(strconv.FormatInt(int64(v), 10))
		},
	}
}

// globDurations is a mapping of tool names or globs to [duration] values,
// each one set; what describes it for "expected WHAT, got ..." messages.
func globDurations(what string) codec[map[string]time.Duration] {
	return codec[map[string]time.Duration]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (map[string]time.Duration, error) {
			pairs, err := d.mappingPairs(n, key, what)
			if err != nil || len(pairs) == 0 {
				return nil, err
			}
			out := make(map[string]time.Duration, len(pairs))
			for _, p := range pairs {
				fk := key + "." + p.key.Value
				if err := d.check(p.key, fk, validateGlob(p.key.Value)); err != nil {
					return nil, err
				}
				v, err := d.duration(p.val, fk)
				if err != nil {
					return nil, err
				}
				if v == 0 {
					return nil, d.errAt(deref(p.val), fk, "a tool's call timeout must be set; write a duration like 10m")
				}
				out[p.key.Value] = v
			}
			return out, nil
		},
		encode: func(v map[string]time.Duration) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			m := &yaml.Node{Kind: yaml.MappingNode}
			for _, name := range slices.Sorted(maps.Keys(v)) {
				m.Content = append(m.Content, strNode(name), strNode(v[name].String()))
			}
			return m
		},
	}
}

// nested is a mapping decoded by its own table; it is left out when none of
// its keys is set.
func nested[S any](t *table[S]) codec[S] {
	return codec[S]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (S, error) {
			var s S
			_, err := t.decode(d, n, key, &s)
			return s, err
		},
		encode: func(v S) *yaml.Node {
			if m := t.encode(&v); len(m.Content) > 0 {
				return m
			}
			return nil
		},
	}
}
