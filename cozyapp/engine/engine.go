// Package engine is Coach CO2's engine on the Cozy stack's side: the app's service runs it (a
// Node.js entry point starts the bundled Go binary when the trips change, cozyapp/services). It
// brings the trips' CO2 figures up to date in the vault, through the stack's /data API with the
// service's token, and stores the web app's screens, rendered by pkg/webapp's own handler and
// templates, with the indicators' report, in one document that the app's static page shows.
//
// A Cozy app cannot run WebAssembly under the CSP the stack sets on apps (README, "In your
// Cozy"): the page shows what the engine wrote instead of computing it.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// DoctypeScreens holds the screens the engine renders, one document: ScreensID.
const (
	DoctypeScreens = "io.cozy.coachco2.screens"
	ScreensID      = "screens"
)

// Paths are the web app's screens the engine renders, in the order the page offers them.
var Paths = []string{"/", "/trips", "/analysis"}

// Screens is the document the engine writes and the page reads.
type Screens struct {
	Rev string `json:"_rev,omitempty"`
	// Main is each screen's <main> element (path -> HTML), as pkg/webapp renders it.
	Main map[string]string `json:"main"`
	// Report is the indicators' report over every trip, as `app report --json` prints it.
	Report *indicators.Report `json:"report"`
	// Computed is when the engine wrote this.
	Computed time.Time `json:"computed"`
}

// Options tune a run.
type Options struct {
	// Locale is the instance's locale, used when the settings give no language.
	Locale string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Run opens the vault the stack at instanceURL serves to token, brings the trips' figures up to
// date, and writes the screens document.
func Run(ctx context.Context, instanceURL, token string, o Options) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	v, err := vault.OpenCozy(ctx, instanceURL, token)
	if err != nil {
		return fmt.Errorf("engine: open the vault through the stack: %w", err)
	}
	defer v.Close()
	c, err := coach.Open(ctx, v)
	if err != nil {
		return fmt.Errorf("engine: open the coach: %w", err)
	}
	if _, err := c.Refresh(ctx); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	r, err := c.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		return fmt.Errorf("engine: the report: %w", err)
	}
	app, err := webapp.New(c, webapp.Options{Locale: o.Locale, Now: o.Now})
	if err != nil {
		return fmt.Errorf("engine: the web app: %w", err)
	}
	s := Screens{Main: map[string]string{}, Report: r, Computed: o.Now().UTC()}
	h := app.Handler()
	for _, p := range Paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("engine: the web app answered %d to %s", rec.Code, p)
		}
		main, err := mainOf(rec.Body.Bytes())
		if err != nil {
			return fmt.Errorf("engine: %s: %w", p, err)
		}
		s.Main[p] = main
	}
	db, err := v.DB(ctx, DoctypeScreens)
	if err != nil {
		return fmt.Errorf("engine: the screens' database: %w", err)
	}
	var old Screens
	switch rev, err := db.Get(ctx, ScreensID, &old); {
	case err == nil:
		s.Rev = rev
	case !errors.Is(err, vault.ErrNotFound):
		return fmt.Errorf("engine: read the screens: %w", err)
	}
	if _, err := db.Put(ctx, ScreensID, s); err != nil {
		return fmt.Errorf("engine: write the screens: %w", err)
	}
	return nil
}

// mainOf returns the <main> element of a page: the layout (navigation, scripts) is the static
// page's own.
func mainOf(page []byte) (string, error) {
	start := bytes.Index(page, []byte("<main"))
	end := bytes.LastIndex(page, []byte("</main>"))
	if start < 0 || end < start {
		return "", errors.New("no <main> in the page")
	}
	return strings.TrimSpace(string(page[start : end+len("</main>")])), nil
}
