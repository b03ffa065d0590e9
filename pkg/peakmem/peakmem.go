// Package peakmem samples the peak memory of the running process while a benchmark runs: the Go
// heap in use, and, on Linux, the resident set, which also counts what the Go heap does not (the
// runtime's own memory, the embedded SQLite's caches, memory not yet returned to the system).
//
//	mem := peakmem.Start(b, 10*time.Millisecond)
//	for b.Loop() { ... }
//	mem.Stop().Report(b)
package peakmem

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Peak is the most memory seen between [Start] and [Sampler.Stop], in bytes.
type Peak struct {
	// Heap is the largest Go heap in use sampled (runtime.MemStats.HeapInuse).
	Heap uint64
	// RSS is the largest resident set: the largest VmRSS sampled, or the kernel's high-water mark
	// VmHWM when Start could reset it (then no peak between two samples is missed). It is 0 where
	// /proc/self/status is missing (outside Linux).
	RSS uint64
}

// Sampler samples memory until stopped.
type Sampler struct {
	stop chan struct{}
	peak chan Peak
	once sync.Once
	last Peak
}

// Start samples memory at once and then every interval, until [Sampler.Stop] or the end of the
// benchmark or test, whichever comes first.
func Start(tb testing.TB, interval time.Duration) *Sampler {
	// Writing 5 to clear_refs resets VmHWM to the current resident set (Linux 4.0 and later), so
	// that it holds this run's peak, not that of an earlier benchmark of the same process.
	hwm := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	s := &Sampler{stop: make(chan struct{}), peak: make(chan Peak, 1)}
	go func() {
		var p Peak
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			p.sample(hwm)
			select {
			case <-s.stop:
				p.sample(hwm)
				s.peak <- p
				return
			case <-ticker.C:
			}
		}
	}()
	tb.Cleanup(func() { s.Stop() })
	return s
}

// Stop takes a last sample, stops sampling and returns the peak; called again, it returns the
// same peak.
func (s *Sampler) Stop() Peak {
	s.once.Do(func() {
		close(s.stop)
		s.last = <-s.peak
	})
	return s.last
}

// Report reports the peak as the benchmark's metrics peak-heap-MB and, where known, peak-rss-MB.
func (p Peak) Report(b *testing.B) {
	b.ReportMetric(float64(p.Heap)/(1<<20), "peak-heap-MB")
	if p.RSS > 0 {
		b.ReportMetric(float64(p.RSS)/(1<<20), "peak-rss-MB")
	}
}

// sample raises p to the memory in use now.
func (p *Peak) sample(hwm bool) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.Heap = max(p.Heap, m.HeapInuse)
	rss, high := resident()
	p.RSS = max(p.RSS, rss)
	if hwm {
		p.RSS = max(p.RSS, high)
	}
}

// resident returns VmRSS and VmHWM from /proc/self/status, 0 where they are missing.
func resident() (rss, hwm uint64) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		// "VmRSS:	  123456 kB"
		name, value, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		kb, ok := bytes.CutSuffix(bytes.TrimSpace(value), []byte(" kB"))
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(kb)), 10, 64)
		if err != nil {
			continue
		}
		switch string(name) {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		}
	}
	return rss, hwm
}
