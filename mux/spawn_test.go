package mux

import (
	"context"
	"testing"
	"time"
)

func TestSpawnSlots(t *testing.T) {
	g := New(nil)
	var releases []func()
	for range cap(g.spawns) {
		releases = append(releases, g.spawnSlot(context.Background()))
	}
	// Full: a start waits, and gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	g.spawnSlot(ctx)()
	if ctx.Err() == nil {
		t.Fatal("a spawn slot was handed out beyond the bound")
	}
	// Releasing twice frees one slot, once.
	releases[0]()
	releases[0]()
	got := make(chan func(), 2)
	go func() { got <- g.spawnSlot(context.Background()) }()
	r := <-got
	if len(g.spawns) != cap(g.spawns) {
		t.Fatalf("%d slots taken; want all %d", len(g.spawns), cap(g.spawns))
	}
	// A slot held past the spawn window frees itself.
	go func() { got <- g.spawnSlot(context.Background()) }()
	select {
	case <-got:
	case <-time.After(10 * spawnWindow):
		t.Fatal("a slot held past the spawn window was not freed")
	}
	r()
}
