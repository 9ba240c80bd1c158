package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	old, err := Parse("old.yaml", []byte(`servers:
  keep: {command: a}
  gone2: {command: a}
  change: {command: a}
  gone1: {command: a}
  moved: {command: a}
`))
	if err != nil {
		t.Fatal(err)
	}
	new, err := Parse("new.yaml", []byte(`servers:
  new2: {command: b}
  moved: {command: a}
  change: {command: b}
  keep: {command: a}
  new1: {command: b}
`))
	if err != nil {
		t.Fatal(err)
	}
	added, removed, changed := Diff(old, new)
	if diff := cmp.Diff([]string{"new2", "new1"}, added); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"gone2", "gone1"}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"change"}, changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}

	added, removed, changed = Diff(nil, old)
	if len(added) != 5 || removed != nil || changed != nil {
		t.Errorf("Diff(nil, old) = %v %v %v", added, removed, changed)
	}
	added, removed, changed = Diff(old, old)
	if added != nil || removed != nil || changed != nil {
		t.Errorf("Diff(old, old) = %v %v %v", added, removed, changed)
	}
}
