package guard

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFindJSON(t *testing.T) {
	k := NewKnown()
	k.Add("gh-token", "ghp_0123456789abcdef")
	k.Add("db-pass", "correct horse battery")
	doc := `{"query":"token ghp_0123456789abcdef please","nested":{"list":["x","` +
		base64.StdEncoding.EncodeToString([]byte("correct horse battery")) + `"]},"odd key":"` +
		url.QueryEscape("correct horse battery") + `","n":1}`
	got := k.FindJSON([]byte(doc), "")
	want := []Match{
		{Secret: "db-pass", Path: "$.nested.list[1]"},
		{Secret: "db-pass", Path: `$["odd key"]`},
		{Secret: "gh-token", Path: "$.query"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FindJSON (-want +got):\n%s", d)
	}
	if got := k.FindJSON([]byte(`{"a":"nothing here at all"}`), ""); got != nil {
		t.Errorf("clean document: %v", got)
	}
	if got := k.Find([]byte("not json ghp_0123456789abcdef")); !cmp.Equal(got, []string{"gh-token"}) {
		t.Errorf("Find = %v", got)
	}
	// Not JSON: found, placed at the root given.
	if got := k.FindJSON([]byte("{broken ghp_0123456789abcdef"), "$.arguments"); !cmp.Equal(got, []Match{{"gh-token", "$.arguments"}}) {
		t.Errorf("invalid JSON: %v", got)
	}
	if NewKnown().Find([]byte("ghp_0123456789abcdef")) != nil {
		t.Error("an empty Known found something")
	}
}
