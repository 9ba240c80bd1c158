//go:build race

package testenv

// raceEnabled builds the binaries under test with -race when the tests run
// with it, so the gateway's own goroutines are checked end to end.
const raceEnabled = true
