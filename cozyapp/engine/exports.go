package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/vault"
)

// The downloads of the Exports screen. The web app exports the trips of a range of months; the
// page cannot run it, so the engine stores each month's part of each export, cut out of the web
// app's own answer for that month, and the page joins the months of the range asked for: the
// web app writes a range's trips oldest first, month after month, so the joined parts are its
// bytes for that range. The attestation covers a year: the engine stores it for each year with
// trips, and the current one.
const (
	// ExportsID is the document Downloads.
	ExportsID = "exports"
	// exportMonthPrefix starts the id of a month's parts, ExportMonthID.
	exportMonthPrefix = "export-"
)

// ExportMonthID is the id of the document of a month's parts of the exports.
func ExportMonthID(month string) string { return exportMonthPrefix + month }

// exportFormats are the web app's trip exports and how their parts join: Sep between two
// months' non-empty parts, Tail at the end (pkg/export: a CSV's rows follow its header; a GeoJSON
// FeatureCollection's features are separated by commas inside its array).
var exportFormats = []struct{ path, sep, tail string }{
	{"/exports/trips.csv", "", ""},
	{"/exports/trips.geojson", ",", "]}\n"},
}

// AttestationPath is the web app's attestation export.
const AttestationPath = "/exports/attestation.pdf"

// Downloads is the document ExportsID.
type Downloads struct {
	ID  string `json:"_id,omitempty"`
	Rev string `json:"_rev,omitempty"`
	// Months are the months with trips, oldest first: each has its document ExportMonthID.
	Months []string `json:"months"`
	// Formats are the trip exports, by the web app's path.
	Formats map[string]Format `json:"formats"`
	// Attestations are the attestation of each year (YYYY) with trips, and of the current one.
	Attestations map[string]File `json:"attestations"`
}

// Format says how the page makes a trip export of a range of months: Head, the parts of the
// range's months (each month's document holds its part under the format's path) with Sep
// between two that are not empty, then Tail.
type Format struct {
	Type     string `json:"type"`
	Filename string `json:"filename"`
	Head     string `json:"head"`
	Sep      string `json:"sep"`
	Tail     string `json:"tail"`
}

// File is a download as the web app answers it, or the screen of its refusal.
type File struct {
	Type     string `json:"type,omitempty"`
	Filename string `json:"filename,omitempty"`
	Base64   string `json:"base64,omitempty"`
	// Error is the <main> of the web app's error screen, when it refused (an attestation
	// without the person's name, for one).
	Error string `json:"error,omitempty"`
}

// exportMonth is the document of a month's parts, by the format's path.
type exportMonth struct {
	ID    string            `json:"_id"`
	Rev   string            `json:"_rev,omitempty"`
	Parts map[string]string `json:"parts"`
	// Trips is what the parts were made from: the month's trips' ids and revisions, and the
	// inputs of the figures (factor set, settings), hashed: a correction changes a trip's
	// revision, new settings the inputs.
	Trips string `json:"trips"`
}

// writeExports writes the downloads: the parts of each month whose trips changed, then the
// document ExportsID.
func writeExports(ctx context.Context, c *coach.Coach, trips, db *vault.DB, h http.Handler, now time.Time) error {
	all, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		return fmt.Errorf("engine: list the trips: %w", err)
	}
	revs := map[string]string{}
	q := figures.AllTrips()
	q.Fields = []string{"_id", "_rev"}
	err = trips.Find(ctx, q, func(raw json.RawMessage) error {
		var d struct {
			ID  string `json:"_id"`
			Rev string `json:"_rev"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		revs[d.ID] = d.Rev
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: read the trips' revisions: %w", err)
	}
	var months []string
	sums := map[string]hash.Hash{}
	for _, t := range all {
		// A trip without a local start (pkg/figures files it under "unknown") is in no range of
		// months the form can ask for.
		if len(t.Start) < 7 {
			continue
		}
		m := t.Start[:7]
		if sums[m] == nil {
			months = append(months, m)
			sums[m] = sha256.New()
			fmt.Fprintf(sums[m], "%+v\n", c.Inputs().Stamp())
		}
		fmt.Fprintf(sums[m], "%s %s\n", t.ID, revs[t.ID])
	}
	slices.Sort(months)
	old, err := readExportMonths(ctx, db)
	if err != nil {
		return err
	}
	d := Downloads{Months: months, Formats: map[string]Format{}, Attestations: map[string]File{}}
	docs := map[string]*exportMonth{}
	var todo []string // the months whose trips changed
	for _, m := range months {
		id := ExportMonthID(m)
		docs[m] = &exportMonth{ID: id, Rev: old[id].Rev, Parts: map[string]string{}, Trips: hex.EncodeToString(sums[m].Sum(nil))}
		if prev, ok := old[id]; ok && prev.Trips == docs[m].Trips && len(prev.Parts) == len(exportFormats) {
			docs[m].Parts = prev.Parts
			continue
		}
		todo = append(todo, m)
	}
	for _, f := range exportFormats {
		// A month without trips gives the head and the tail alone.
		empty, err := download(ctx, h, f.path+"?from=0001-01&to=0001-01")
		if err != nil {
			return err
		}
		if empty.Error != "" || !strings.HasSuffix(empty.body, f.tail) {
			return fmt.Errorf("engine: the empty export %s does not end with %q", f.path, f.tail)
		}
		head := strings.TrimSuffix(empty.body, f.tail)
		d.Formats[f.path] = Format{Type: empty.Type, Filename: empty.Filename, Head: head, Sep: f.sep, Tail: f.tail}
		for _, m := range todo {
			got, err := download(ctx, h, f.path+"?"+url.Values{"from": {m}, "to": {m}}.Encode())
			if err != nil {
				return err
			}
			if got.Error != "" || !strings.HasPrefix(got.body, head) || !strings.HasSuffix(got.body, f.tail) || len(got.body) < len(head)+len(f.tail) {
				return fmt.Errorf("engine: the export %s of %s is not its head, trips and tail", f.path, m)
			}
			docs[m].Parts[f.path] = got.body[len(head) : len(got.body)-len(f.tail)]
		}
	}
	years := []string{strconv.Itoa(now.Year())}
	for _, m := range months {
		if !slices.Contains(years, m[:4]) {
			years = append(years, m[:4])
		}
	}
	for _, y := range years {
		got, err := download(ctx, h, AttestationPath+"?year="+y)
		if err != nil {
			return err
		}
		if got.Error == "" {
			got.Base64 = base64.StdEncoding.EncodeToString([]byte(got.body))
		}
		d.Attestations[y] = got.File
	}
	var changed []exportMonth
	for _, m := range todo {
		changed = append(changed, *docs[m])
	}
	res, err := vault.SaveMany(ctx, db, changed, 0)
	if err != nil {
		return fmt.Errorf("engine: write the exports' months: %w", err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("engine: write %s: %w", r.ID, r.Err)
		}
	}
	return putDoc(ctx, db, ExportsID, &d, &d.ID, &d.Rev)
}

// readExportMonths reads the months' parts the engine stored, by id.
func readExportMonths(ctx context.Context, db *vault.DB) (map[string]exportMonth, error) {
	old := map[string]exportMonth{}
	sel := map[string]any{"_id": map[string]any{"$gt": exportMonthPrefix, "$lt": exportMonthPrefix + "\uffff"}}
	err := db.Find(ctx, vault.Query{Selector: sel}, func(doc json.RawMessage) error {
		var m exportMonth
		if err := json.Unmarshal(doc, &m); err != nil {
			return err
		}
		old[m.ID] = m
		return nil
	})
	if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return nil, fmt.Errorf("engine: read the exports' months: %w", err)
	}
	return old, nil
}

// answer is a download as the web app answered it.
type answer struct {
	File
	body string
}

// download asks the web app's handler for a download: its body, type and file name, or the
// screen of its refusal (a 4xx answer).
func download(ctx context.Context, h http.Handler, path string) (answer, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
	switch {
	case rec.Code == http.StatusOK:
		a := answer{File: File{Type: rec.Header().Get("Content-Type")}, body: rec.Body.String()}
		if _, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); err == nil {
			a.Filename = params["filename"]
		}
		return a, nil
	case rec.Code >= 400 && rec.Code < 500:
		main, err := mainOf(rec.Body.Bytes())
		if err != nil {
			return answer{}, fmt.Errorf("engine: %s: %w", path, err)
		}
		return answer{File: File{Error: main}}, nil
	}
	return answer{}, fmt.Errorf("engine: the web app answered %d to %s", rec.Code, path)
}
