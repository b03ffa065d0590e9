package peakmem

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

// touch allocates n bytes and writes every page, so that they are resident.
func touch(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += os.Getpagesize() {
		b[i] = 1
	}
	return b
}

// TestPeakCountsWhatIsInUseAtStop: memory held at Stop counts, in the heap and the resident set.
func TestPeakCountsWhatIsInUseAtStop(t *testing.T) {
	s := Start(t, time.Hour) // no sample but the first and the last
	b := touch(64 * mib)
	p := s.Stop()
	runtime.KeepAlive(b)
	if p.Heap < 64*mib {
		t.Errorf("peak heap %d MiB, want 64 MiB or more", p.Heap/mib)
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc/self/status, no resident set: %v", err)
	}
	if p.RSS < 64*mib {
		t.Errorf("peak resident set %d MiB, want 64 MiB or more", p.RSS/mib)
	}
}

// TestPeakCatchesWhatCameAndWentBetweenSamples: the kernel's high-water mark holds a peak that no
// sample saw.
func TestPeakCatchesWhatCameAndWentBetweenSamples(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("the resident set's high-water mark cannot be reset here: %v", err)
	}
	s := Start(t, time.Hour)
	b := touch(96 * mib)
	runtime.KeepAlive(b)
	b = nil
	debug.FreeOSMemory()
	if p := s.Stop(); p.RSS < 96*mib {
		t.Errorf("peak resident set %d MiB, want 96 MiB or more", p.RSS/mib)
	}
}

func TestResident(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	rss, hwm := resident()
	if rss == 0 || hwm < rss {
		t.Fatalf("VmRSS %d, VmHWM %d: want both, the mark at least the resident set", rss, hwm)
	}
}
