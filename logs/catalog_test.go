package logs

import (
	"context"
	"path/filepath"
	"testing"
)

func TestCatalogCache(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok, err := db.LoadCatalog(ctx, "fx", "f1"); ok || err != nil {
		t.Fatalf("empty cache: %v %v", ok, err)
	}
	for _, c := range []string{`{"tools":[1]}`, `{"tools":[2]}`} {
		if err := db.SaveCatalog(ctx, "fx", "f1", []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := db.LoadCatalog(ctx, "fx", "f1"); !ok || err != nil || string(got) != `{"tools":[2]}` {
		t.Errorf("LoadCatalog = %s %v %v; want the last saved", got, ok, err)
	}
	if _, ok, _ := db.LoadCatalog(ctx, "fx", "f2"); ok {
		t.Error("a catalog was served for another launch spec")
	}
}

func TestCatalogsWhateverFingerprint(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SaveCatalog(ctx, "fx", "f1", []byte(`{"tools":[1]}`))
	db.SaveCatalog(ctx, "fy", "f2", []byte(`{"tools":[2]}`))
	db.SaveCatalog(ctx, "fx", "f3", []byte(`{"tools":[3]}`))
	got, err := db.Catalogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got["fx"]) != `{"tools":[3]}` || string(got["fy"]) != `{"tools":[2]}` {
		t.Errorf("Catalogs = %q; want each server's last saved", got)
	}
}
