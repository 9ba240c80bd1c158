package proc

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExeCleanMappings(t *testing.T) {
	const smaps = `00400000-00be7000 r-xp 00000000 fe:00 10020506                           /opt/my tools/mcpgw
Size:               8092 kB
Rss:                7300 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
00be7000-013ac000 r--p 007e7000 fe:00 10020506                           /opt/my tools/mcpgw
Rss:                4000 kB
Anonymous:             0 kB
VmFlags: rd mr mw me
013ac000-013b0000 r--p 00fac000 fe:00 10020506                           /opt/my tools/mcpgw
Rss:                  16 kB
Anonymous:             8 kB
VmFlags: rd mr mw me
013b0000-01429000 rw-p 00fb0000 fe:00 10020506                           /opt/my tools/mcpgw
Rss:                 336 kB
Anonymous:           188 kB
01429000-03474000 rw-p 00000000 00:00 0 
Rss:                 120 kB
Anonymous:           120 kB
7f2551490000-7f2551590000 r-xp 00000000 fe:00 77                         /usr/lib/libc.so.6
Rss:                  64 kB
Anonymous:             0 kB
7f2598223000-7f2598225000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
`
	got, err := exeCleanMappings(strings.NewReader(smaps), "/opt/my tools/mcpgw")
	if err != nil {
		t.Fatal(err)
	}
	// The text and read-only data; not the read-only mapping holding
	// relocated (private) pages, not the writable data, nothing else.
	want := []exeMapping{{0x400000, 0xbe7000}, {0xbe7000, 0x13ac000}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(exeMapping{})); diff != "" {
		t.Errorf("exeCleanMappings (-want +got):\n%s", diff)
	}
}

// TestReleaseExecutablePages releases the test binary's own pages and goes
// on running: its resident file pages fall, and the code still runs.
func TestReleaseExecutablePages(t *testing.T) {
	before := exeRssKiB(t)
	released, err := ReleaseExecutablePages()
	after := exeRssKiB(t)
	if err != nil {
		t.Fatal(err)
	}
	if released == 0 {
		t.Fatal("released no mapping of the executable")
	}
	t.Logf("executable pages resident: %d kB before, %d kB after releasing %d kB of mappings", before, after, released>>10)
	if after*2 > before {
		t.Errorf("executable pages resident: %d kB after release, from %d kB; want less than half", after, before)
	}
	// Code that has not run since the release faults back in and works.
	if got := strings.Repeat(strconv.Itoa(42), 2); got != "4242" {
		t.Errorf("after release: got %q", got)
	}
}

// exeRssKiB sums the resident size of the executable's read-only mappings.
func exeRssKiB(t *testing.T) int {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	sum, in := 0, false
	for _, line := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 6 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = strings.Join(f[5:], " ") == exe && !strings.Contains(f[1], "w")
		case in && len(f) == 3 && f[0] == "Rss:":
			kb, _ := strconv.Atoi(f[1])
			sum += kb
		}
	}
	return sum
}
