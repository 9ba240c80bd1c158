//go:build !unix

package mux

func procFakeMain(string) int { return 2 }
