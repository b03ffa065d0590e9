package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/vault"
)

// AnalysisID is the document of the analysis of each period the page can ask for: the web app
// analyses any year or month, the engine renders those with trips and the current year (the
// screen's own, which Paths renders as "/analysis").
const AnalysisID = "analysis"

// Analyses is the document AnalysisID.
type Analyses struct {
	ID  string `json:"_id,omitempty"`
	Rev string `json:"_rev,omitempty"`
	// Main is each period's screen (YYYY or YYYY-MM -> <main>), as the web app renders
	// /analysis?period=….
	Main map[string]string `json:"main"`
}

// writeAnalyses renders the analysis of every year and month with trips, and of the current
// year, and writes the document AnalysisID.
func writeAnalyses(ctx context.Context, c *coach.Coach, db *vault.DB, h http.Handler, now time.Time) error {
	all, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		return fmt.Errorf("engine: list the trips: %w", err)
	}
	periods := []string{strconv.Itoa(now.Year())}
	for _, t := range all {
		if len(t.Start) < 7 {
			continue
		}
		for _, p := range []string{t.Start[:4], t.Start[:7]} {
			if !slices.Contains(periods, p) {
				periods = append(periods, p)
			}
		}
	}
	a := Analyses{Main: map[string]string{}}
	for _, p := range periods {
		if a.Main[p], err = render(ctx, h, "/analysis?"+url.Values{"period": {p}}.Encode()); err != nil {
			return err
		}
	}
	return putDoc(ctx, db, AnalysisID, &a, &a.ID, &a.Rev)
}
