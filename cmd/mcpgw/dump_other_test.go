//go:build !unix

package main

import "os"

// dumpSignal: Windows has no signal that makes a Go program dump its
// goroutines; a failed test's mcpgw is only stopped.
var dumpSignal os.Signal = os.Kill
