package co2

import (
	"math"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// near reports whether got equals want to within 1e-9 relative (or 1e-12 absolute near 0).
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12+1e-9*math.Abs(want)
}

// mustLookup returns the set with the given id or stops the test.
func mustLookup(t testing.TB, id string) *FactorSet {
	t.Helper()
	s, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// coversEveryMode fails the test when table lacks one of trip.Modes(), so that a mode added to
// pkg/trip makes the per-mode tables here fail until someone states its expected value.
func coversEveryMode[V any](t *testing.T, table map[trip.Mode]V) {
	t.Helper()
	for _, m := range trip.Modes() {
		if _, ok := table[m]; !ok {
			t.Errorf("test table has no case for mode %s", m)
		}
	}
}
