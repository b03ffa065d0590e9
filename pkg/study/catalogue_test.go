package study_test

import (
	"slices"
	"testing"

	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/trip"
)

// The catalogue's categories are the coach's modes and purposes: a mode or purpose added to
// pkg/trip must be added here consciously (it changes the contract with collectors).
func TestCategoriesAreTheCoachs(t *testing.T) {
	var modes, purposes []string
	for _, m := range trip.Modes() {
		modes = append(modes, string(m))
	}
	for _, p := range trip.Purposes() {
		purposes = append(purposes, string(p))
	}
	if !slices.Equal(study.Modes(), modes) {
		t.Errorf("study.Modes() = %v\ntrip.Modes() = %v", study.Modes(), modes)
	}
	if !slices.Equal(study.Purposes(), purposes) {
		t.Errorf("study.Purposes() = %v\ntrip.Purposes() = %v", study.Purposes(), purposes)
	}
}
