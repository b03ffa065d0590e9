package engine_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/cozyapp/engine"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// runJobs moves the stack double's clock on by d and runs the jobs it pushed, as the stack's
// workers would, each with its token; it returns their services' names.
func runJobs(t *testing.T, stack *vaulttest.CozyStack, dir string, d time.Duration) []string {
	t.Helper()
	var ran []string
	for _, j := range stack.Advance(d) {
		if j.File != "/services/coach.js" {
			t.Fatalf("a job for %s, which the bundle does not have", j.File)
		}
		runService(t, dir, stack.URL, j.Token)
		ran = append(ran, j.Service)
	}
	return ran
}

// TestServiceRunsOnItsTriggers installs the bundle and lets the stack double's scheduler start
// its service, as the manifest's triggers say: a minute after the trips arrive (the debounce),
// at once when a correction is stored, daily for the share. The service writes no trip for their
// figures (they live in the figures cache), so its run on new trips starts nothing more; a
// correction, which it writes to its trip, starts it once more, and that run writes none: the
// triggers never loop.
func TestServiceRunsOnItsTriggers(t *testing.T) {
	dir := buildBundle(t)
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	app := stack.InstallApp(t, "coachco2-local", dir)
	home, err := vault.OpenCozy(t.Context(), stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	defer home.Close()
	trips := sampleTrips(t)
	save(t, home, trips) // as the konnector does: a _bulk_docs of new trips

	if ran := runJobs(t, stack, dir, 59*time.Second); len(ran) != 0 {
		t.Fatalf("the service ran %v before its debounce ended", ran)
	}
	if ran := runJobs(t, stack, dir, time.Second); strings.Join(ran, " ") != "coach" {
		t.Fatalf("a minute after the trips came: %v, want the coach service once", ran)
	}
	settle := func(what string) {
		t.Helper()
		// A run that wrote a trip starts one more; the next writes none.
		for range 3 {
			if len(stack.Waiting()) == 0 {
				return
			}
			runJobs(t, stack, dir, time.Minute)
		}
		t.Fatalf("%s: the service keeps starting itself: %+v", what, stack.Waiting())
	}
	if w := stack.Waiting(); len(w) != 0 {
		t.Fatalf("the service's run on new trips started it again: %+v", w)
	}
	v, err := vault.OpenCozy(t.Context(), stack.URL, app.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	screens, err := v.DB(t.Context(), engine.DoctypeScreens)
	if err != nil {
		t.Fatal(err)
	}
	var s engine.Screens
	if _, err := screens.Get(t.Context(), engine.ScreensID, &s); err != nil || s.Report == nil || s.Report.Totals.Trips != len(trips) {
		t.Fatalf("the screens after the triggered runs: %v, %+v", err, s.Report)
	}

	// A correction, as the page stores it, starts the service at once.
	corrections, err := v.DB(t.Context(), engine.DoctypeCorrections)
	if err != nil {
		t.Fatal(err)
	}
	id := trips[0].ID
	title := "Set through a trigger"
	form := url.Values{"title": {title}}.Encode()
	if _, err := corrections.Put(t.Context(), "c1", engine.Correction{Path: "/trips/" + url.PathEscape(id), Form: form}); err != nil {
		t.Fatal(err)
	}
	if ran := runJobs(t, stack, dir, 0); strings.Join(ran, " ") != "corrections" {
		t.Fatalf("after a correction: %v, want the corrections service at once", ran)
	}
	var screen struct{ Main string }
	if _, err := screens.Get(context.Background(), engine.TripScreenID(id), &screen); err != nil || !strings.Contains(screen.Main, title) {
		t.Fatalf("the trip's screen after the correction's run: %v, title shown: %v", err, strings.Contains(screen.Main, title))
	}
	settle("after the correction")
	left := 0
	if err := corrections.Find(t.Context(), vault.Query{}, func(json.RawMessage) error { left++; return nil }); err != nil || left != 0 {
		t.Fatalf("%d corrections left (%v)", left, err)
	}
	// The daily share runs once a day, trips or not.
	if ran := runJobs(t, stack, dir, 24*time.Hour); strings.Join(ran, " ") != "sharing" {
		t.Fatalf("a day later: %v, want the sharing service once", ran)
	}
}
