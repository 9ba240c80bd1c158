package keystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

// mapBackend is an in-memory keychain with go-keyring's error values.
type mapBackend struct {
	mu sync.Mutex
	m  map[string]string
}

func (b *mapBackend) Set(service, user, pw string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]string{}
	}
	b.m[service+"/"+user] = pw
	return nil
}

func (b *mapBackend) Get(service, user string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *mapBackend) Delete(service, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.m, service+"/"+user)
	return nil
}

func TestKeyringRoundTrip(t *testing.T) {
	ctx := context.Background()
	be := &mapBackend{}
	k := NewKeyring(&KeyringOptions{backend: be})
	if err := k.Set(ctx, "github-token", "ghp_0123456789"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, "db.pass", "hunter2hunter2"); err != nil {
		t.Fatal(err)
	}
	v, err := k.Get(ctx, "github-token")
	if err != nil || v != "ghp_0123456789" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	names, err := k.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"db.pass", "github-token"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if err := k.Delete(ctx, "github-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, "github-token"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "mcpgw secret set github-token") {
		t.Errorf("Get after Delete: %v; want ErrNotFound naming the command", err)
	}
	if err := k.Delete(ctx, "github-token"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v; want ErrNotFound", err)
	}
	if names, _ := k.List(ctx); !cmp.Equal(names, []string{"db.pass"}) {
		t.Errorf("List after Delete = %v", names)
	}
}

func TestKeyringRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	k := NewKeyring(&KeyringOptions{backend: &mapBackend{}})
	for _, tc := range []struct{ name, value, want string }{
		{"ok", strings.Repeat("x", MaxValueLen+1), "larger than 2560 bytes"},
		{"ok", "", "empty value"},
		{".index", "v", "bad secret name"},
		{"has space", "v", "bad secret name"},
		{"", "v", "bad secret name"},
		{strings.Repeat("n", 65), "v", "bad secret name"},
	} {
		err := k.Set(ctx, tc.name, tc.value)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%q, %d bytes) = %v; want %q", tc.name, len(tc.value), err, tc.want)
		}
	}
	if err := k.Set(ctx, "max", strings.Repeat("x", MaxValueLen)); err != nil {
		t.Errorf("Set at the limit: %v", err)
	}
}

func TestKeyringIndexSplitsAcrossEntries(t *testing.T) {
	ctx := context.Background()
	be := &mapBackend{}
	k := NewKeyring(&KeyringOptions{backend: be})
	var want []string
	for i := range 200 { // 200 × ~40 bytes: several index parts
		n := fmt.Sprintf("secret-%03d-%s", i, strings.Repeat("a", 28))
		want = append(want, n)
		if err := k.Set(ctx, n, "value-value"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		p, err := be.Get(Service, indexPart(i))
		if err != nil {
			t.Fatalf("index part %d: %v", i, err)
		}
		if len(p) > MaxValueLen {
			t.Errorf("index part %d is %d bytes", i, len(p))
		}
	}
	got, err := k.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("List (-want +got):\n%s", diff)
	}
	for _, n := range want[1:] {
		if err := k.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := k.List(ctx); !cmp.Equal(got, want[:1]) {
		t.Errorf("List = %v; want %v", got, want[:1])
	}
	if _, err := be.Get(Service, indexPart(1)); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("stale index part 1 left behind: %v", err)
	}
}

// hangBackend never answers until released.
type hangBackend struct {
	release chan struct{}
	calls   chan string
}

func (b *hangBackend) wait(op string) error {
	b.calls <- op
	<-b.release
	return errors.New("released")
}
func (b *hangBackend) Set(_, u, _ string) error        { return b.wait("set " + u) }
func (b *hangBackend) Get(_, u string) (string, error) { return "", b.wait("get " + u) }
func (b *hangBackend) Delete(_, u string) error        { return b.wait("delete " + u) }

func TestKeyringTimesOutAndDoesNotPileUp(t *testing.T) {
	be := &hangBackend{release: make(chan struct{}), calls: make(chan string, 10)}
	k := NewKeyring(&KeyringOptions{backend: be, Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	_, err := k.Get(ctx, "a-token")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("Get on a hung keychain = %v; want an UnavailableError saying it did not answer", err)
	}
	// While the first call still hangs, later ones fail at once and never
	// reach the keychain.
	for range 3 {
		if _, err := k.Get(ctx, "a-token"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "still waiting") {
			t.Fatalf("Get while stuck = %v", err)
		}
	}
	if n := len(be.calls); n != 1 {
		t.Fatalf("keychain saw %d calls; want 1 (the hung one)", n)
	}
	close(be.release)
	// Once it answers (the hung goroutine ends a moment after the
	// release), the keychain is used again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := k.Get(ctx, "a-token")
		if err != nil && strings.Contains(err.Error(), "released") {
			break
		}
		if !strings.Contains(err.Error(), "still waiting") || time.Now().After(deadline) {
			t.Fatalf("Get after the keychain answered = %v; want its answer", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestKeyringHonoursContext(t *testing.T) {
	be := &hangBackend{release: make(chan struct{}), calls: make(chan string, 10)}
	defer close(be.release)
	k := NewKeyring(&KeyringOptions{backend: be, Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-be.calls; cancel() }()
	if _, err := k.Get(ctx, "a-token"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v; want context.Canceled", err)
	}
}

func TestKeyringUnavailable(t *testing.T) {
	k := NewKeyring(&KeyringOptions{backend: errBackend{errors.New("The name org.freedesktop.secrets was not provided by any .service files")}})
	_, err := k.Get(context.Background(), "tok-en")
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Get = %v; want *UnavailableError", err)
	}
	for _, want := range []string{"not provided by any .service files", "fallback: env", "MCPGW_SECRET_"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

type errBackend struct{ err error }

func (b errBackend) Set(string, string, string) error   { return b.err }
func (b errBackend) Get(string, string) (string, error) { return "", b.err }
func (b errBackend) Delete(string, string) error        { return b.err }

// TestSigningKey checks that the identity signing key is made once, kept
// out of the secrets' index and names, and that a damaged one says how to
// recover.
func TestSigningKey(t *testing.T) {
	ctx := context.Background()
	be := &mapBackend{}
	k := NewKeyring(&KeyringOptions{backend: be})
	first, err := k.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewKeyring(&KeyringOptions{backend: be}).SigningKey(ctx)
	if err != nil || !first.Equal(again) {
		t.Fatalf("second SigningKey = %v; want the stored key", err)
	}
	if names, _ := k.List(ctx); len(names) != 0 {
		t.Errorf("List = %v; the signing key is no secret", names)
	}
	if _, err := k.Get(ctx, signingKeyEntry); err == nil {
		t.Error("the signing key can be read as a secret (a ${secret:} reference would send it to a server)")
	}
	be.Set(Service, signingKeyEntry, "garbage")
	_, err = k.SigningKey(ctx)
	var ue *UnavailableError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "delete that entry") {
		t.Errorf("damaged key: %v; want an error saying how to recover, not a keychain failure", err)
	}
}

func TestBlobSplitsAcrossEntriesAndShrinks(t *testing.T) {
	ctx := context.Background()
	be := &mapBackend{}
	k := NewKeyring(&KeyringOptions{backend: be})
	long := strings.Repeat("abcdefghij", 700) // 7000 bytes: three entries
	if err := k.SetBlob(ctx, "oauth.github", long); err != nil {
		t.Fatal(err)
	}
	for name, v := range be.m {
		if len(v) > MaxValueLen {
			t.Errorf("entry %q holds %d bytes, over the keychain limit %d", name, len(v), MaxValueLen)
		}
	}
	if got, err := k.GetBlob(ctx, "oauth.github"); err != nil || got != long {
		t.Fatalf("GetBlob = %d bytes, %v; want the %d bytes stored", len(got), err, len(long))
	}
	if err := k.SetBlob(ctx, "oauth.github", "short"); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.GetBlob(ctx, "oauth.github"); got != "short" {
		t.Fatalf("after shrinking, GetBlob = %q", got)
	}
	if n := len(be.m); n != 1 {
		t.Errorf("after shrinking, %d entries are left, want 1: %v", n, be.m)
	}
	if names, _ := k.List(ctx); len(names) != 0 {
		t.Errorf("blobs show in the secret list: %v", names)
	}
	if err := k.DeleteBlob(ctx, "oauth.github"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.GetBlob(ctx, "oauth.github"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after DeleteBlob, GetBlob error = %v, want not found", err)
	}
}
