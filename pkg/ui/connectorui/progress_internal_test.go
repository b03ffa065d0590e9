package connectorui

import (
	"testing"

	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// TestProgressLineInFrench: the progress line speaks the printer's language, thousands grouped.
func TestProgressLineInFrench(t *testing.T) {
	s := tripsync.Summary{Fetched: 1200, Created: 3, Updated: 1, Unchanged: 2, LabelsApplied: 5}
	if got, want := progressLine(i18n.For("en"), s), "trips fetched 1,200 · saved 4 · unchanged 2 · labels 5"; got != want {
		t.Errorf("English: %q, want %q", got, want)
	}
	if got, want := progressLine(i18n.For("fr"), s), "trajets récupérés 1\u00a0200 · enregistrés 4 · inchangés 2 · étiquettes 5"; got != want {
		t.Errorf("French: %q, want %q", got, want)
	}
}
