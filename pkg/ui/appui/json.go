package appui

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/trip"
)

// jsonPrinter prints one JSON value per result (per trip for a list), unrounded.
type jsonPrinter struct{ w io.Writer }

func (p jsonPrinter) Report(r *indicators.Report) error { return json.NewEncoder(p.w).Encode(r) }

// Trips prints one JSON object per line.
func (p jsonPrinter) Trips(list []coach.TripSummary) error {
	enc := json.NewEncoder(p.w)
	for _, l := range list {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return nil
}

func (p jsonPrinter) Shared(sum sharing.Summary) error { return json.NewEncoder(p.w).Encode(sum) }

// Suggested are the home and work suggested from the trips ("app settings --suggest-places").
type Suggested struct{ Home, Work *places.Suggestion }

// Settings prints the settings in force, the suggestions and how many trips the last refresh
// recomputed, as indented JSON ("app settings").
func Settings(w io.Writer, s settings.Settings, suggested Suggested, recomputed int) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"settings": s, "suggested": suggested, "recomputed": recomputed})
}

// EditNotApplied prints an edit left undone because it would give the trip's purpose to similar
// trips and was not confirmed ("app edit --recurring" without --yes).
func EditNotApplied(w io.Writer, id string, wouldPropagate []string) error {
	return json.NewEncoder(w).Encode(map[string]any{"id": id, "applied": false, "would_propagate_to": wouldPropagate,
		"hint": fmt.Sprintf("nothing changed: this gives the purpose to %d similar trips; run again with --yes to do it", len(wouldPropagate))})
}

// UndoneRecurring prints the trips that got their purpose back ("app edit --undo-recurring").
func UndoneRecurring(w io.Writer, id string, undone []string) error {
	return json.NewEncoder(w).Encode(map[string]any{"id": id, "recurring": false, "undone": undone})
}

// Edited prints a corrected trip's figures and the trips its purpose went to ("app edit").
func Edited(w io.Writer, id string, a trip.Aggregation, propagated []string) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"id": id, "purpose": a.Purpose, "modes": a.Modes, "co2_kg": a.TotalCO2, "title": a.ShownTitle(), "propagated_to": propagated})
}
