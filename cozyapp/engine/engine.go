// Package engine is Coach CO2's engine on the Cozy stack's side: the app's service runs it (a
// Node.js entry point starts the bundled Go binary when the trips change, cozyapp/services). It
// brings the trips' CO2 figures up to date in the vault, through the stack's /data API with the
// service's token, and stores the web app's screens, rendered by pkg/webapp's own handler and
// templates, with the indicators' report, in one document that the app's static page shows.
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
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// DoctypeScreens holds the screens the engine renders: the document ScreensID, and one
// document per trip, TripScreenID(id). DoctypeCorrections holds the forms the page submits
// (a trip's corrections), which the engine passes to the web app's handler.
const (
	DoctypeScreens     = "io.cozy.coachco2.screens"
	DoctypeCorrections = "io.cozy.coachco2.corrections"
	ScreensID          = "screens"
	// ExportsID is the document of the stored downloads, apart from the screens so that the
	// dashboard does not wait for them.
	ExportsID = "exports"
)

// TripScreenID is the id of a trip's screen document.
func TripScreenID(tripID string) string { return "trip-" + tripID }

// Correction is a form the page submitted: the web app's path it was for and its fields,
// URL-encoded. Only a trip's forms (correctionPath) and the Studies screen's (studyForm) are
// taken.
type Correction struct {
	ID   string `json:"_id,omitempty"`
	Rev  string `json:"_rev,omitempty"`
	Path string `json:"path"`
	Form string `json:"form"`
}

// correctionPath is what a correction may post to: a trip's form, or the undo of its recurrence.
var correctionPath = regexp.MustCompile(`^/trips/[^/]+(/recurring/undo)?$`)

// tripScreen is a trip's screen document.
type tripScreen struct {
	ID   string `json:"_id"`
	Rev  string `json:"_rev,omitempty"`
	Main string `json:"main"`
}

// Paths are the web app's screens the engine renders, in the order the page offers them.
var Paths = []string{"/", "/trips", "/analysis", "/exports"}

// Exports are the web app's downloads the engine stores, over every trip, in the document
// ExportsID: the page offers them from the Exports screen.
var Exports = []string{"/exports/trips.csv"}

// Downloads is the document ExportsID.
type Downloads struct {
	ID  string `json:"_id,omitempty"`
	Rev string `json:"_rev,omitempty"`
	// Files holds each download of Exports (path -> content), as the web app answers it.
	Files map[string]string `json:"files"`
}

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
	app, err := webapp.New(c, webapp.Options{Locale: o.Locale, Now: o.Now})
	if err != nil {
		return fmt.Errorf("engine: the web app: %w", err)
	}
	st, err := enableStudies(ctx, v, c, app, instanceURL, token, o.Now)
	if err != nil {
		return err
	}
	h := app.Handler()
	if err := applyCorrections(ctx, v, h, st); err != nil {
		return err
	}
	st.share(ctx, o.Now())
	r, err := c.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		return fmt.Errorf("engine: the report: %w", err)
	}
	s := Screens{Main: map[string]string{}, Report: r, Computed: o.Now().UTC()}
	downloads := Downloads{Files: map[string]string{}}
	for _, p := range Paths {
		if s.Main[p], err = render(ctx, h, p); err != nil {
			return err
		}
	}
	if s.Main[StudiesPath], err = st.render(ctx, h); err != nil {
		return err
	}
	for _, p := range Exports {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("engine: the web app answered %d to %s", rec.Code, p)
		}
		downloads.Files[p] = rec.Body.String()
	}
	db, err := v.DB(ctx, DoctypeScreens)
	if err != nil {
		return fmt.Errorf("engine: the screens' database: %w", err)
	}
	if err := writeTripScreens(ctx, c, db, h); err != nil {
		return err
	}
	if err := putDoc(ctx, db, ExportsID, &downloads, &downloads.ID, &downloads.Rev); err != nil {
		return err
	}
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
// again), and said on stderr without its content. Where a Studies form led is kept in st.
func applyCorrections(ctx context.Context, v *vault.Vault, h http.Handler, st *studies) error {
	db, err := v.DB(ctx, DoctypeCorrections)
	if err != nil {
		return fmt.Errorf("engine: the corrections' database: %w", err)
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
		return fmt.Errorf("engine: read the corrections: %w", err)
	}
	for _, c := range todo {
		if !correctionPath.MatchString(c.Path) && !studyForm.MatchString(c.Path) {
			slog.Warn("engine: a correction for another path than a trip's or a study's is left out", "id", c.ID)
		} else {
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, c.Path, strings.NewReader(c.Form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 400 {
				slog.Warn("engine: the web app refused a correction", "id", c.ID, "status", rec.Code)
			}
			st.answered(c.Path, rec)
		}
		if _, err := db.Delete(ctx, c.ID, c.Rev); err != nil && !errors.Is(err, vault.ErrNotFound) {
			return fmt.Errorf("engine: remove the correction %s: %w", c.ID, err)
		}
	}
	return nil
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
