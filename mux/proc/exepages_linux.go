package proc

// Releasing the executable's pages. mcpgw is one static binary of 17 MB; by
// the time it idles, the kernel has mapped about 14 MB of it into the
// process: package initialisation, config loading and startup touch code all
// over it, and each read fault maps the 64 KiB around it. Those pages are
// clean and backed by the file, so the kernel can drop them from the page
// tables at any time and fault them back in from the page cache when the
// code runs again. ReleaseExecutablePages asks for exactly that, once the
// work that touched them is done: what stays resident afterwards is what
// the process really runs.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReleaseExecutablePages drops the pages of the running executable from
// this process's resident set (madvise MADV_DONTNEED on its read-only file
// mappings). Nothing is lost: they are clean copies of the file, read back
// from the page cache on their next use, and they stay in the page cache
// for as long as other processes (the supervisors) map them. It returns how
// many bytes of mappings it released.
//
// Only mappings that are not writable and hold no private (copied-on-write)
// pages are touched: a position-independent build keeps relocated data in
// a read-only mapping once relocated, and releasing that would bring back
// the file's unrelocated bytes.
func ReleaseExecutablePages() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("release executable pages: %w", err)
	}
	// Streamed, not read whole: a supervisor never collects garbage, and
	// every byte its heap grows by stays resident.
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("release executable pages: %w", err)
	}
	mappings, err := exeCleanMappings(smaps, exe)
	smaps.Close()
	if err != nil {
		return 0, fmt.Errorf("release executable pages: reading /proc/self/smaps: %w", err)
	}
	released := 0
	for _, m := range mappings {
		// The raw call: the range is not Go memory, so no slice over it.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return released, fmt.Errorf("release executable pages %#x-%#x: %w", m.start, m.end, errno)
		}
		released += int(m.end - m.start)
	}
	return released, nil
}

// exeMapping is an address range of a mapping in /proc/self/smaps.
type exeMapping struct{ start, end uintptr }

// exeCleanMappings returns the mappings of file exe in smaps (the format of
// /proc/PID/smaps) that are readable, not writable, and hold no anonymous
// (private, copied) pages.
func exeCleanMappings(smaps io.Reader, exe string) ([]exeMapping, error) {
	var (
		out  []exeMapping
		cur  exeMapping
		keep bool // the mapping in cur is one of exe's read-only ones
	)
	flush := func() {
		if keep {
			out = append(out, cur)
		}
		keep = false
	}
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Bytes()
		key, rest, _ := bytes.Cut(line, []byte(":"))
		if !bytes.ContainsAny(key, " -") {
			// "Key: value" of the current mapping, such as "Anonymous: 8 kB".
			if keep && string(key) == "Anonymous" && string(bytes.TrimSpace(rest)) != "0 kB" {
				keep = false
			}
			continue
		}
		// A mapping: "start-end perms offset dev inode path".
		flush()
		f := bytes.Fields(line)
		if len(f) < 6 || string(bytes.Join(f[5:], []byte(" "))) != exe {
			continue
		}
		lo, hi, _ := bytes.Cut(f[0], []byte("-"))
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || !bytes.HasPrefix(f[1], []byte("r-")) {
			continue
		}
		cur, keep = exeMapping{uintptr(start), uintptr(end)}, true
	}
	flush()
	return out, sc.Err()
}
