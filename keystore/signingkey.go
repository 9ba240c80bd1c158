package keystore

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// signingKeyEntry holds the identity signing key. Like the index, its name
// cannot be a secret's (it starts with '.'), so no ${secret:…} reference
// can hand it to a server, and `mcpgw secret list` does not show it.
const signingKeyEntry = ".identity-key"

// SigningKey returns the Ed25519 key mcpgw signs identity assertions with,
// creating and storing it on first use. It is kept in the keychain as a
// PKCS #8 PEM block.
//
// Two processes creating it at once would each store one; the value read
// back after storing is the one used, so both end up with whichever was
// stored last.
func (k *Keyring) SigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var key ed25519.PrivateKey
	err := k.do(ctx, func() error {
		v, err := k.be.Get(k.service, signingKeyEntry)
		if errors.Is(err, keyring.ErrNotFound) {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			der, merr := x509.MarshalPKCS8PrivateKey(priv)
			if merr != nil {
				return merr
			}
			if serr := k.be.Set(k.service, signingKeyEntry, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))); serr != nil {
				return serr
			}
			v, err = k.be.Get(k.service, signingKeyEntry)
		}
		if err != nil {
			return err
		}
		key, err = parseSigningKey(v)
		return err
	})
	return key, k.classify(err)
}

// badKeyError is a stored signing key that does not parse: mcpgw's own
// error, not the keychain's.
type badKeyError struct{ err error }

func (e badKeyError) Error() string {
	return fmt.Sprintf("the identity signing key in the keychain (service %q, account %q) is damaged: %v; delete that entry and mcpgw makes a new one (servers must then be given the new public key: mcpgw identity public-key)", Service, signingKeyEntry, e.err)
}

func parseSigningKey(v string) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode([]byte(v))
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, badKeyError{errors.New("not a PEM private key")}
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, badKeyError{err}
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, badKeyError{fmt.Errorf("a %T, not an Ed25519 key", k)}
	}
	return ed, nil
}
