//go:build unix

package main

import (
	"os"
	"syscall"
)

// dumpSignal makes a Go program print every goroutine's stack to stderr and
// exit: what a failed test shows of the mcpgw it drove.
var dumpSignal os.Signal = syscall.SIGQUIT
