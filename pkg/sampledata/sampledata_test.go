package sampledata

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB whose Fatalf and Skipf are recorded; they end the calling goroutine,
// as the real ones do.
type recorder struct {
	testing.TB
	mu          sync.Mutex
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skip = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// TestDirMissing: missing samples skip the test, except on CI, where they fail it.
func TestDirMissing(t *testing.T) {
	t.Setenv("OPENPATH_SAMPLES", filepath.Join(t.TempDir(), "nowhere"))
	for _, c := range []struct {
		ci   string
		fail bool
	}{{"", false}, {"0", false}, {"false", false}, {"1", true}, {"true", true}} {
		t.Setenv("CI", c.ci)
		r := &recorder{TB: t}
		got := "(returned)"
		done := make(chan struct{})
		go func() {
			defer close(done)
			got = Dir(r)
		}()
		<-done
		switch {
		case c.fail && (!strings.Contains(r.fatal, "CI is set") || !strings.Contains(r.fatal, "OPENPATH_SAMPLES")):
			t.Errorf("CI=%q: fatal %q, skip %q, got %q; want a failure saying why", c.ci, r.fatal, r.skip, got)
		case !c.fail && (r.fatal != "" || !strings.Contains(r.skip, "OPENPATH_SAMPLES")):
			t.Errorf("CI=%q: fatal %q, skip %q, got %q; want a skip", c.ci, r.fatal, r.skip, got)
		}
	}
}

// TestDirFound: OPENPATH_SAMPLES names a directory with a timeline: Dir returns it, CI or not.
func TestDirFound(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "timeline"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPENPATH_SAMPLES", dir)
	t.Setenv("CI", "true")
	if got := Dir(t); got != dir {
		t.Fatalf("Dir = %q, want %q", got, dir)
	}
}

// TestTimelineTrips: every trip of the timeline samples, each a FeatureCollection object.
func TestTimelineTrips(t *testing.T) {
	trips := TimelineTrips(t)
	if len(trips) < 76 { // the samples' README: 76 distinct trips
		t.Fatalf("%d trips", len(trips))
	}
	for _, tr := range trips {
		if !strings.HasPrefix(string(tr), "{") || !strings.Contains(string(tr), `"FeatureCollection"`) {
			t.Fatalf("not a trip: %.80s", tr)
		}
	}
}
