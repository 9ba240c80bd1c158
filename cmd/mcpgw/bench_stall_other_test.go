//go:build !linux

package main

import "os"

// stallDumpDir: MCPGW_BENCH_STALL_DUMP dumps on a stall on Linux only.
var stallDumpDir = ""

func init() {
	if os.Getenv("MCPGW_BENCH_STALL_DUMP") != "" {
		println("MCPGW_BENCH_STALL_DUMP: dumps are taken on Linux only")
	}
}

func (p *benchPath) dumpStall() {}
