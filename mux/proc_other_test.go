//go:build !unix && !windows

package mux

func procFakeMain(string) int { return 2 }
