package engine_test

import (
	"os"
	"testing"
	"time"

	"github.com/coachco2/coachco2/cozyapp/engine"
	"github.com/coachco2/coachco2/pkg/browsertest"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// TestMeasureInACozy measures, and reports without judging (a loaded machine would make any
// threshold flaky), the coach in a Cozy over 1,000 trips: the engine's run (the service), the
// time from opening the page to the first dashboard in headless Chromium, and the tab's memory.
// It runs only with COACHCO2_MEASURE=1.
func TestMeasureInACozy(t *testing.T) {
	if os.Getenv("COACHCO2_MEASURE") == "" {
		t.Skip("set COACHCO2_MEASURE=1 to measure the coach in a Cozy over 1,000 trips")
	}
	dir := buildBundle(t)
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	home, err := vault.OpenCozy(t.Context(), stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	n := coachtest.Fill(t, home, 1000)
	home.Close()
	app := stack.InstallApp(t, "coachco2-local", dir)

	start := time.Now()
	if err := engine.Run(t.Context(), stack.URL, app.Token, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	engineRun := time.Since(start)
	// A run again, with no trip changed, as when the stack starts the service for a correction
	// that the web app refused.
	start = time.Now()
	if err := engine.Run(t.Context(), stack.URL, app.Token, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	engineRerun := time.Since(start)

	b := browsertest.New(t, app.URL)
	start = time.Now()
	b.Navigate("/")
	b.WaitVisible("#screen #this-month")
	firstDashboard := time.Since(start)
	// Chromium's own figure for the page's JavaScript heap (coarse without
	// --enable-precise-memory-info, fine for megabytes).
	heap := browsertest.Evaluate[float64](b, "performance.memory.usedJSHeapSize")
	t.Logf("%d trips: engine run %v (again with no trip changed: %v), first dashboard %v, tab JS heap %.1f MB", n,
		engineRun.Round(time.Millisecond), engineRerun.Round(time.Millisecond), firstDashboard.Round(time.Millisecond), heap/1e6)
}
