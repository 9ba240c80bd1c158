//go:build !unix && !windows

package proc

func fakeMain(string) int { return 2 }
