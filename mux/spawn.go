package mux

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// spawnWindow is how long a starting server may hold its spawn slot; one
// that takes longer to initialize lets the next one start anyway.
const spawnWindow = time.Second

// maxSpawns bounds how many stdio servers start at once.
func maxSpawns() int { return max(4, 2*runtime.NumCPU()) }

// spawnSlot waits for a spawn slot (or ctx) and returns its release, which
// may be called more than once; the slot is released by itself after
// spawnWindow.
func (g *Gateway) spawnSlot(ctx context.Context) func() {
	select {
	case g.spawns <- struct{}{}:
	case <-ctx.Done():
		return func() {}
	}
	var once sync.Once
	free := func() { once.Do(func() { <-g.spawns }) }
	t := time.AfterFunc(spawnWindow, free)
	return func() {
		t.Stop()
		free()
	}
}
