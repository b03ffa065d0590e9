// Package engine is Coach CO2's engine on the Cozy stack's side: the app's service runs it (a
// Node.js entry point starts the bundled Go binary when the trips change, cozyapp/services). It
// brings the trips' CO2 figures up to date in the vault, through the stack's /data API with the
// service's token, and stores the web app's screens, rendered by pkg/webapp's own handler and
// templates, with the indicators' report, in documents that the app's static page shows: the
// screens and the report, each trip's screen, the trip list's rows for its filters
// (triplist.go), each period's analysis (analysis.go) and the downloads (exports.go). It also
// passes the forms the page stored (a trip's corrections, the settings) to the handler.
//
// A Cozy app cannot run WebAssembly under the CSP the stack sets on apps (README, "In your
// Cozy"): the page shows what the engine wrote instead of computing it.
//
// The engine also runs the research sharing (studies.go): the Studies screen and its forms,
// and the requests to the studies' collectors, which go through the stack's remote doctypes.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// DoctypeScreens holds the screens the engine renders: the document ScreensID, and one
// document per trip, TripScreenID(id), the trip list's rows (triplist.go), the analyses
// (analysis.go) and the downloads (exports.go). DoctypeCorrections holds the forms the page submits (a trip's corrections, the
// settings), which the engine passes to the web app's handler.
const (
	DoctypeScreens     = "io.cozy.coachco2.screens"
	DoctypeCorrections = "io.cozy.coachco2.corrections"
	ScreensID          = "screens"
)

// TripScreenID is the id of a trip's screen document.
func TripScreenID(tripID string) string { return "trip-" + tripID }

// Correction is a form the page submitted: the web app's path it was for and its fields,
// URL-encoded. Only a trip's forms, the settings' (correctionPath) and the Studies screen's
// (studyForm) are taken.
type Correction struct {
	ID   string `json:"_id,omitempty"`
	Rev  string `json:"_rev,omitempty"`
	Path string `json:"path"`
	Form string `json:"form"`
	// Created is when the page stored it (RFC 3339): the corrections are applied in that order,
	// as `app serve` would have taken them (their ids, the stack's, have no order).
	Created string `json:"created,omitempty"`
}

// correctionPath is what a correction may post to: a trip's form, the undo of its recurrence, or
// the settings' form (settings.go).
var correctionPath = regexp.MustCompile(`^(/trips/[^/]+(/recurring/undo)?|/settings)$`)

// tripScreen is a trip's screen document.
type tripScreen struct {
	ID   string `json:"_id"`
	Rev  string `json:"_rev,omitempty"`
	Main string `json:"main"`
}

// Paths are the web app's screens the engine renders, in the order the page offers them (a path
// with a query is reached from a link, not from the page's menu).
var Paths = []string{"/", "/trips", "/analysis", "/settings", "/exports", "/settings?suggest=1"}

// Screens is the document the engine writes and the page reads.
type Screens struct {
	// ID and Rev go together: the stack refuses an update with a _rev and no _id
	// (web/data/data.go, UpdateDoc).
	ID  string `json:"_id,omitempty"`
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
	// Now is the clock (time.Now when nil). A run reads it once: every screen and download of a
	// run is of the same instant.
	Now func() time.Time
}

// Run opens the vault the stack at instanceURL serves to token, brings the trips' figures up to
// date, and writes the screens document.
func Run(ctx context.Context, instanceURL, token string, o Options) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now()
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
	app, err := webapp.New(c, webapp.Options{Locale: o.Locale, Now: func() time.Time { return now }})
	if err != nil {
		return fmt.Errorf("engine: the web app: %w", err)
	}
	st, err := enableStudies(ctx, v, c, app, instanceURL, token, o.Now)
	if err != nil {
		return err
	}
	h := app.Handler()
	refused, err := applyCorrections(ctx, v, c, h, st)
	if err != nil {
		return err
	}
	// A new factor set or default mode recomputes every trip in the background (as in `app
	// serve`): the screens show the figures once it is over.
	if p, err := c.WaitRecompute(ctx); err != nil {
		return fmt.Errorf("engine: wait for the recompute of the figures: %w", err)
	} else if p.Failed {
		return errors.New("engine: the recompute of the figures after a settings change failed (logged above)")
	}
	st.share(ctx, now)
	r, err := c.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		return fmt.Errorf("engine: the report: %w", err)
	}
	s := Screens{Main: map[string]string{}, Report: r, Computed: now.UTC()}
	for _, p := range Paths {
		if s.Main[p], err = render(ctx, h, p); err != nil {
			return err
		}
	}
	if s.Main[StudiesPath], err = st.render(ctx, h); err != nil {
		return err
	}
	// A settings form the web app refused shows as `app serve` answers it: the form, with the
	// settings in force and the reason, until the next run.
	if main, ok := refused["/settings"]; ok {
		s.Main["/settings"] = main
	}
	db, err := v.DB(ctx, DoctypeScreens)
	if err != nil {
		return fmt.Errorf("engine: the screens' database: %w", err)
	}
	if err := writeTripScreens(ctx, c, db, h); err != nil {
		return err
	}
	if err := writeTripList(ctx, c, db, h, i18n.Negotiate(c.Settings().Language, o.Locale)); err != nil {
		return err
	}
	if err := writeAnalyses(ctx, c, db, h, now); err != nil {
		return err
	}
	trips, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		return fmt.Errorf("engine: the trips' database: %w", err)
	}
	if err := writeExports(ctx, c, trips, db, h, now); err != nil {
		return err
	}
	// Last: the page takes the screens' document as the sign that the run is over.
	return putDoc(ctx, db, ScreensID, &s, &s.ID, &s.Rev)
}

// putDoc writes doc under id, over its current revision if there is one.
func putDoc(ctx context.Context, db *vault.DB, id string, doc any, docID, docRev *string) error {
	var old struct{}
	switch rev, err := db.Get(ctx, id, &old); {
	case err == nil:
		*docID, *docRev = id, rev
	case !errors.Is(err, vault.ErrNotFound):
		return fmt.Errorf("engine: read %s: %w", id, err)
	}
	if _, err := db.Put(ctx, id, doc); err != nil {
		return fmt.Errorf("engine: write %s: %w", id, err)
	}
	return nil
}

// render returns the <main> of the web app's page at path.
func render(ctx context.Context, h http.Handler, path string) (string, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("engine: the web app answered %d to %s", rec.Code, path)
	}
	main, err := mainOf(rec.Body.Bytes())
	if err != nil {
		return "", fmt.Errorf("engine: %s: %w", path, err)
	}
	return main, nil
}

// applyCorrections passes each submitted form to the web app's handler, as `app serve` gets it,
// and removes it once done. A form the handler refuses is removed too (it would be refused
// again), and said on stderr without its content; refused holds the <main> of the handler's
// answer to the last one refused for each path. Where a Studies form led is kept in st.
func applyCorrections(ctx context.Context, v *vault.Vault, c *coach.Coach, h http.Handler, st *studies) (refused map[string]string, err error) {
	refused = map[string]string{}
	db, err := v.DB(ctx, DoctypeCorrections)
	if err != nil {
		return nil, fmt.Errorf("engine: the corrections' database: %w", err)
	}
	var todo []Correction
	err = db.Find(ctx, vault.Query{}, func(doc json.RawMessage) error {
		var c Correction
		if err := json.Unmarshal(doc, &c); err != nil {
			return fmt.Errorf("a correction: %w", err)
		}
		todo = append(todo, c)
		return nil
	})
	// Through a stack, a doctype's database exists from its first document on.
	if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return nil, fmt.Errorf("engine: read the corrections: %w", err)
	}
	slices.SortStableFunc(todo, func(a, b Correction) int { return strings.Compare(a.Created, b.Created) })
	for _, corr := range todo {
		if !correctionPath.MatchString(corr.Path) && !studyForm.MatchString(corr.Path) {
			slog.Warn("engine: a correction for another path than a trip's, the settings' or a study's is left out", "id", corr.ID)
		} else {
			form := corr.Form
			if corr.Path == "/settings" {
				form = settingsForm(form, c.Settings())
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, corr.Path, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 400 {
				slog.Warn("engine: the web app refused a correction", "id", corr.ID, "status", rec.Code)
				if main, err := mainOf(rec.Body.Bytes()); err == nil {
					refused[corr.Path] = main
				}
			} else {
				delete(refused, corr.Path) // a later form was taken
			}
			st.answered(corr.Path, rec)
		}
		if _, err := db.Delete(ctx, corr.ID, corr.Rev); err != nil && !errors.Is(err, vault.ErrNotFound) {
			return nil, fmt.Errorf("engine: remove the correction %s: %w", corr.ID, err)
		}
	}
	return refused, nil
}

// writeTripScreens renders every trip's screen and writes those that changed, in bulk.
func writeTripScreens(ctx context.Context, c *coach.Coach, db *vault.DB, h http.Handler) error {
	trips, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		return fmt.Errorf("engine: list the trips: %w", err)
	}
	old := map[string]tripScreen{}
	err = db.Find(ctx, vault.Query{Selector: map[string]any{"_id": map[string]any{"$gt": "trip-", "$lt": "trip-\uffff"}}}, func(doc json.RawMessage) error {
		var s tripScreen
		if err := json.Unmarshal(doc, &s); err != nil {
			return err
		}
		old[s.ID] = s
		return nil
	})
	if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("engine: read the trips' screens: %w", err)
	}
	var changed []tripScreen
	for _, t := range trips {
		main, err := render(ctx, h, "/trips/"+url.PathEscape(t.ID))
		if err != nil {
			return err
		}
		id := TripScreenID(t.ID)
		if prev, ok := old[id]; ok && prev.Main == main {
			continue
		}
		changed = append(changed, tripScreen{ID: id, Rev: old[id].Rev, Main: main})
	}
	res, err := vault.SaveMany(ctx, db, changed, 0)
	if err != nil {
		return fmt.Errorf("engine: write the trips' screens: %w", err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("engine: write the screen %s: %w", r.ID, r.Err)
		}
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
