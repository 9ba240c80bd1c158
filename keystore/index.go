package keystore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zalando/go-keyring"
)

// The index of stored names lives in the keychain itself, in entries whose
// names cannot be secret names (they start with '.'), so it travels with the
// secrets and needs no file. Long indexes are split across entries that each
// stay under [MaxValueLen]: .index, .index.1, .index.2, ...
const indexEntry = ".index"

// index is a set of secret names.
type index map[string]bool

func (ix index) add(name string) bool {
	if ix[name] {
		return false
	}
	ix[name] = true
	return true
}

func (ix index) remove(name string) bool {
	if !ix[name] {
		return false
	}
	delete(ix, name)
	return true
}

func (ix index) sorted() []string {
	names := make([]string, 0, len(ix))
	for n := range ix {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func indexPart(i int) string {
	if i == 0 {
		return indexEntry
	}
	return fmt.Sprintf("%s.%d", indexEntry, i)
}

// readIndex reads every part of the index; no index is an empty one.
func (k *Keyring) readIndex() (index, error) {
	ix := index{}
	for i := 0; ; i++ {
		v, err := k.be.Get(k.service, indexPart(i))
		if errors.Is(err, keyring.ErrNotFound) {
			return ix, nil
		}
		if err != nil {
			return nil, err
		}
		for _, n := range strings.Split(v, "\n") {
			if ValidName(n) == nil {
				ix[n] = true
			}
		}
	}
}

// updateIndex applies change to the stored index and writes it back when
// change reports a difference.
func (k *Keyring) updateIndex(change func(index) bool) error {
	ix, err := k.readIndex()
	if err != nil {
		return fmt.Errorf("reading the index of secret names: %w", err)
	}
	if !change(ix) {
		return nil
	}
	parts := splitIndex(ix.sorted())
	for i, p := range parts {
		if err := k.be.Set(k.service, indexPart(i), p); err != nil {
			return fmt.Errorf("writing the index of secret names: %w", err)
		}
	}
	// Remove parts left over from a longer index.
	for i := len(parts); ; i++ {
		err := k.be.Delete(k.service, indexPart(i))
		if errors.Is(err, keyring.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("writing the index of secret names: %w", err)
		}
	}
}

// splitIndex packs names, one per line, into parts of at most MaxValueLen
// bytes. An empty index is one empty part, so a stale part 0 is replaced.
func splitIndex(names []string) []string {
	parts := []string{""}
	for _, n := range names {
		last := &parts[len(parts)-1]
		switch {
		case *last == "":
			*last = n
		case len(*last)+1+len(n) <= MaxValueLen:
			*last += "\n" + n
		default:
			parts = append(parts, n)
		}
	}
	return parts
}
