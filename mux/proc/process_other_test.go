//go:build !unix && !windows

package proc

func procFakeMain(string) int { return 2 }
