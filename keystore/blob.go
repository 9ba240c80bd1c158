package keystore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zalando/go-keyring"
)

// Blobs keeps mcpgw's own values (OAuth tokens and client registrations)
// in the keychain under internal names, apart from the named secrets: no
// ${secret:…} reference can reach them and `mcpgw secret list` does not
// show them. A value may be longer than [MaxValueLen]; it is split across
// entries.
type Blobs interface {
	// GetBlob returns the value stored under name, or an error matching
	// [ErrNotFound].
	GetBlob(ctx context.Context, name string) (string, error)
	// SetBlob stores value under name, replacing any previous value.
	SetBlob(ctx context.Context, name, value string) error
	// DeleteBlob removes name; a name not stored is no error.
	DeleteBlob(ctx context.Context, name string) error
}

// blobEntry is the keychain entry of a blob's part i. Blob entries start
// with '.', which a secret's name cannot, like the index.
func blobEntry(name string, i int) string {
	if i == 0 {
		return ".blob." + name
	}
	return fmt.Sprintf(".blob.%s.%d", name, i)
}

// blobPart is the part of a value one entry holds, leaving room for part
// 0's header (the number of parts).
const blobPart = MaxValueLen - 16

// GetBlob implements [Blobs].
func (k *Keyring) GetBlob(ctx context.Context, name string) (string, error) {
	var v string
	err := k.do(ctx, func() error {
		var err error
		v, err = k.getBlob(name)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return "", &NotFoundError{Name: name}
	}
	return v, k.classify(err)
}

// getBlob reads part 0, "N\n" and the first part, then parts 1..N-1.
func (k *Keyring) getBlob(name string) (string, error) {
	head, err := k.be.Get(k.service, blobEntry(name, 0))
	if err != nil {
		return "", err
	}
	count, first, ok := strings.Cut(head, "\n")
	n, cerr := strconv.Atoi(count)
	if !ok || cerr != nil || n < 1 {
		return "", fmt.Errorf("keychain entry %q is damaged; run mcpgw auth logout and log in again", blobEntry(name, 0))
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < n; i++ {
		p, err := k.be.Get(k.service, blobEntry(name, i))
		if err != nil {
			return "", fmt.Errorf("reading part %d of %q: %w", i, name, err)
		}
		b.WriteString(p)
	}
	return b.String(), nil
}

// SetBlob implements [Blobs]. The later parts are written first and part
// 0, which says how many there are, last.
func (k *Keyring) SetBlob(ctx context.Context, name, value string) error {
	var parts []string
	for len(value) > blobPart {
		parts = append(parts, value[:blobPart])
		value = value[blobPart:]
	}
	parts = append(parts, value)
	return k.classify(k.do(ctx, func() error {
		old := k.blobParts(name)
		for i := len(parts) - 1; i >= 0; i-- {
			v := parts[i]
			if i == 0 {
				v = strconv.Itoa(len(parts)) + "\n" + v
			}
			if err := k.be.Set(k.service, blobEntry(name, i), v); err != nil {
				return err
			}
		}
		for i := len(parts); i < old; i++ {
			_ = k.be.Delete(k.service, blobEntry(name, i))
		}
		return nil
	}))
}

// blobParts is how many parts name has now (0 for none).
func (k *Keyring) blobParts(name string) int {
	head, err := k.be.Get(k.service, blobEntry(name, 0))
	if err != nil {
		return 0
	}
	count, _, _ := strings.Cut(head, "\n")
	n, _ := strconv.Atoi(count)
	return n
}

// DeleteBlob implements [Blobs].
func (k *Keyring) DeleteBlob(ctx context.Context, name string) error {
	return k.classify(k.do(ctx, func() error {
		if _, err := k.be.Get(k.service, blobEntry(name, 0)); err != nil {
			if errors.Is(err, keyring.ErrNotFound) {
				return nil
			}
			return err
		}
		n := k.blobParts(name)
		for i := n - 1; i >= 0; i-- {
			if err := k.be.Delete(k.service, blobEntry(name, i)); err != nil && !errors.Is(err, keyring.ErrNotFound) {
				return err
			}
		}
		return nil
	}))
}

// BlobsOf returns the [Blobs] behind s: s itself, or the store an
// [EnvFallback] wraps; nil when s keeps none.
func BlobsOf(s Getter) Blobs {
	switch v := s.(type) {
	case Blobs:
		return v
	case *EnvFallback:
		return BlobsOf(v.Store)
	}
	return nil
}
