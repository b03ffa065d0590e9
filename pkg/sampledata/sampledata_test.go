package sampledata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/tbtest"
)

// TestDirMissing: missing samples skip the test, except on CI, where they fail it.
func TestDirMissing(t *testing.T) {
	t.Setenv("OPENPATH_SAMPLES", filepath.Join(t.TempDir(), "nowhere"))
	for _, c := range []struct {
		ci   string
		fail bool
	}{{"", false}, {"0", false}, {"false", false}, {"1", true}, {"true", true}} {
		t.Setenv("CI", c.ci)
		r := &tbtest.Recorder{TB: t}
		got := "(returned)"
		fatal, skip := r.Run(func() { got = Dir(r) })
		switch {
		case c.fail && (!strings.Contains(fatal, "CI is set") || !strings.Contains(fatal, "OPENPATH_SAMPLES")):
			t.Errorf("CI=%q: fatal %q, skip %q, got %q; want a failure saying why", c.ci, fatal, skip, got)
		case !c.fail && (fatal != "" || !strings.Contains(skip, "OPENPATH_SAMPLES")):
			t.Errorf("CI=%q: fatal %q, skip %q, got %q; want a skip", c.ci, fatal, skip, got)
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
