// Package tripsync brings a person's trips from a tracking server into their vault: incrementally,
// idempotently, and without losing a trip.
//
// How a run goes, for one account:
//
//  1. The server's entries are read by write time (metadata.write_ts) in windows, from the
//     account's trip cursor (inclusive: an entry at the cursor is read again and recognised) up to
//     a few minutes before now. Windows grow when they are sparse and shrink when they are full.
//  2. Trips come as analysis/composite_trip entries when the server makes them; otherwise the
//     confirmed or cleaned trip entries name the days to fetch with getTrips, each day being the
//     trip's local start date (never UTC).
//  3. Each window's trips are converted and merged into the vault in one bulk write: a trip already
//     there (same id, or same device and time span after the server re-processed it) is updated
//     only when the server's content changed, and keeps what the app wrote (corrections,
//     aggregates); labels waiting for a trip are applied as it arrives.
//  4. Only then does the cursor move, in a fresh read-modify-write of the account. A failed
//     request stops the run with the cursor where it was; a trip that cannot be converted is
//     recorded in the account and reported, and the others are saved.
//  5. Labels (mode, purpose, replaced mode) are read the same way with their own cursor and land
//     on the trip their time span overlaps most, the latest label winning; a label whose trip is
//     not in the vault yet waits in the account until the trip arrives.
//
// A time budget stops a run cleanly between windows; the next run resumes at the cursor.
package tripsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Source is what a run reads from the tracking server; *openpath.Client is one.
type Source interface {
	PipelineRange(ctx context.Context) (openpath.PipelineRange, error)
	FindEntries(ctx context.Context, q openpath.EntryQuery) ([]openpath.Entry, error)
	Trips(ctx context.Context, day openpath.Date) ([]openpath.Trip, error)
}

// Options tune a run. The zero value is usable.
type Options struct {
	// Deadline stops the run between windows once passed (zero: no budget).
	Deadline time.Time
	// DryRun reads the server and the vault but writes nothing.
	DryRun bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives the run's log lines (slog.Default when nil). The token never reaches it.
	Logger *slog.Logger
	// Progress, when set, is called after each window with the totals so far.
	Progress func(Summary)
	// AppVersion is written in the trips' cozyMetadata.
	AppVersion string
	// Server is the tracking server's host, written in the trips' source.
	Server string
	// FirstWindow is the first discovery window (7 days when zero).
	FirstWindow time.Duration
	// Since, when set, starts this run's reading there instead of at the cursors: to fetch
	// again what the server wrote since then.
	Since time.Time
}

// Summary is what a run did.
type Summary struct {
	Account       string           `json:"account"`
	Fetched       int              `json:"trips_fetched"`
	Created       int              `json:"created"`
	Updated       int              `json:"updated"`
	Unchanged     int              `json:"unchanged"`
	LabelsApplied int              `json:"labels_applied"`
	LabelsPending int              `json:"labels_pending"`
	Errors        []TripError      `json:"errors"`
	Cursor        accounts.Cursors `json:"cursor"`
	// Partial is true when the time budget ran out before the run reached the present.
	Partial bool `json:"partial"`
	DryRun  bool `json:"dry_run,omitempty"`
}

// TripError is a trip the run could not keep.
type TripError struct {
	TripID string `json:"trip_id"`
	Error  string `json:"error"`
}

// Index is the trips index a run's queries need: by device, then start time.
var Index = vault.Index{Name: "by-captureDevice-startTs", Fields: []string{"captureDevice", "openpath.startTs"}}

const (
	// settleMargin keeps the cursor this far behind now, so that entries being written while we
	// read, or a clock that differs from the server's, cannot slip behind it.
	settleMargin = 5 * time.Minute
	minWindow    = time.Minute
	maxWindow    = 90 * 24 * time.Hour
	// A window holding more entries than fullWindow halves the next one; fewer than
	// sparseWindow doubles it.
	fullWindow   = 400
	sparseWindow = 40
	// sameTripSlack is how far a re-processed trip's start and end may move and still be the
	// same trip.
	sameTripSlack = 120.0
	// labelReach is how long before a label's start its trip may have started.
	labelReach = 6 * 3600.0
	// labelLookback is how far behind their cursor labels are read again (see sync).
	labelLookback = 14 * 24 * time.Hour
)

// Engine syncs accounts into one vault.
type Engine struct {
	trips    *vault.DB
	accounts *accounts.Store
}

// New returns an engine writing trips to the trips database, creating the index it needs.
func New(ctx context.Context, trips *vault.DB, store *accounts.Store) (*Engine, error) {
	if err := trips.EnsureIndexes(ctx, Index); err != nil {
		return nil, fmt.Errorf("tripsync: %w", err)
	}
	return &Engine{trips: trips, accounts: store}, nil
}

// run is the state of one Sync call.
type run struct {
	*Engine
	opts    Options
	log     *slog.Logger
	src     Source
	account *accounts.Account
	origin  trip.Origin
	sum     Summary
	pending []accounts.PendingLabel
}

// Sync brings the account's new and changed trips and labels into the vault. The returned summary
// is valid even with an error: it tells what was saved before the error.
func (e *Engine) Sync(ctx context.Context, account *accounts.Account, src Source, opts Options) (Summary, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FirstWindow <= 0 {
		opts.FirstWindow = 7 * 24 * time.Hour
	}
	r := &run{
		Engine: e, opts: opts, src: src, account: account,
		log:     opts.Logger.With("account", account.ID, "device", account.Auth.Login),
		origin:  trip.Origin{Server: opts.Server, Device: account.Auth.Login, AccountID: account.ID, App: accounts.Slug, AppVersion: opts.AppVersion},
		sum:     Summary{Account: account.ID, Cursor: account.Data.Cursors, DryRun: opts.DryRun, Errors: []TripError{}},
		pending: slices.Clone(account.Data.PendingLabels),
	}
	err := r.sync(ctx)
	if ferr := r.flushCursors(context.WithoutCancel(ctx)); err == nil {
		err = ferr
	}
	r.sum.LabelsPending = len(r.pending)
	return r.sum, err
}

func (r *run) sync(ctx context.Context) error {
	span, err := r.src.PipelineRange(ctx)
	if err != nil {
		return err
	}
	if span.Empty {
		r.log.Info("the server has no processed trips yet")
		return nil
	}
	upper := float64(r.opts.Now().Add(-settleMargin).UnixNano()) / 1e9
	composite, err := r.serverMakesComposites(ctx, span)
	if err != nil {
		return err
	}
	keys := []string{openpath.KeyConfirmedTrip, openpath.KeyCleanedTrip}
	if composite {
		keys = []string{openpath.KeyCompositeTrip}
	}
	from := r.start(r.sum.Cursor.Trips, span)
	done, err := r.windows(ctx, keys, from, upper, func(entries []openpath.Entry, end float64) error {
		return r.saveTripWindow(ctx, entries, composite, end)
	})
	if err != nil || !done {
		return err
	}
	// The phone stamps a label's write_ts when the person labels the trip, not when the server
	// receives it: a phone that uploads late writes entries behind the cursor. Labels are small and
	// applying one twice changes nothing, so each run reads them again from labelLookback back.
	from = r.start(r.sum.Cursor.Labels, span)
	if r.opts.Since.IsZero() {
		from = max(span.StartTS, from-labelLookback.Seconds())
	}
	_, err = r.windows(ctx, openpath.LabelKeys(), from, upper, func(entries []openpath.Entry, end float64) error {
		return r.applyLabelWindow(ctx, entries, end)
	})
	return err
}

// start is where reading begins: --since, else the cursor, else the start of the server's data.
func (r *run) start(cursor float64, span openpath.PipelineRange) float64 {
	switch {
	case !r.opts.Since.IsZero():
		return float64(r.opts.Since.Unix())
	case cursor > 0:
		return cursor
	}
	return span.StartTS
}

// serverMakesComposites asks whether the server's newest trip has a composite entry.
func (r *run) serverMakesComposites(ctx context.Context, span openpath.PipelineRange) (bool, error) {
	entries, err := r.src.FindEntries(ctx, openpath.EntryQuery{
		Keys: []string{openpath.KeyCompositeTrip}, KeyTime: openpath.KeyTimeStartTS,
		Start: span.EndTS - 7*24*3600, End: span.EndTS + 1,
	})
	return len(entries) > 0, err
}

// windows reads entries of keys by write time from `from` to `upper`, window by window, and hands
// each complete window to save. It returns false when the time budget stopped it.
func (r *run) windows(ctx context.Context, keys []string, from, upper float64, save func([]openpath.Entry, float64) error) (bool, error) {
	window := r.opts.FirstWindow.Seconds()
	for from < upper {
		if !r.opts.Deadline.IsZero() && r.opts.Now().After(r.opts.Deadline) {
			r.sum.Partial = true
			r.log.Info("time budget reached; the next run resumes here", "cursor", from)
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		end := min(from+window, upper)
		entries, err := r.src.FindEntries(ctx, openpath.EntryQuery{Keys: keys, Start: from, End: end, KeyTime: openpath.KeyTimeWriteTS})
		if err != nil {
			return false, err
		}
		if err := save(entries, end); err != nil {
			return false, err
		}
		if r.opts.Progress != nil {
			r.opts.Progress(r.sum)
		}
		switch {
		case len(entries) > fullWindow:
			window = max(window/2, minWindow.Seconds())
		case len(entries) < sparseWindow:
			window = min(window*2, maxWindow.Seconds())
		}
		from = end
	}
	return true, nil
}

// saveTripWindow converts a window's trips, merges them into the vault and moves the trip cursor.
func (r *run) saveTripWindow(ctx context.Context, entries []openpath.Entry, composite bool, end float64) error {
	var docs []*trip.Doc
	var failures []TripError
	fail := func(id string, err error) {
		failures = append(failures, TripError{TripID: id, Error: err.Error()})
		r.log.Warn("trip skipped", "trip", id, "error", err)
	}
	now := r.opts.Now()
	if composite {
		for _, e := range entries {
			doc, err := trip.FromComposite(e.Raw, r.origin, now)
			if err != nil {
				fail(e.ID, err)
				continue
			}
			docs = append(docs, doc)
		}
	} else {
		var err error
		if docs, err = r.tripsOfDays(ctx, entries, now, fail); err != nil {
			return err
		}
	}
	r.sum.Fetched += len(docs)
	applied, err := r.merge(ctx, docs)
	if err != nil {
		return err
	}
	r.sum.Errors = append(r.sum.Errors, failures...)
	r.sum.Cursor.Trips = end
	if len(entries) == 0 {
		return nil // nothing to record but the cursor: flushCursors saves it once at the end
	}
	return r.saveAccount(ctx, func(d *accounts.Data) {
		d.Cursors.Trips = end
		d.PendingLabels = removeLabels(d.PendingLabels, applied)
		for _, f := range failures {
			d.RecordFailure(f.TripID, errors.New(f.Error), now)
		}
	})
}

// flushCursors saves the cursors reached, for the windows that had nothing else to save.
func (r *run) flushCursors(ctx context.Context) error {
	c := r.sum.Cursor
	if c == r.account.Data.Cursors {
		return nil
	}
	return r.saveAccount(ctx, func(d *accounts.Data) {
		d.Cursors.Trips = max(d.Cursors.Trips, c.Trips)
		d.Cursors.Labels = max(d.Cursors.Labels, c.Labels)
	})
}

// tripsOfDays fetches with getTrips every local day the entries' trips started on.
func (r *run) tripsOfDays(ctx context.Context, entries []openpath.Entry, now time.Time, fail func(string, error)) ([]*trip.Doc, error) {
	var days []openpath.Date
	announced := map[string]string{} // start second -> entry id, until getTrips gives the trip
	for _, e := range entries {
		h, err := e.TripHeader()
		if err == nil {
			var day openpath.Date
			if day, err = h.StartDate(); err == nil {
				days = append(days, day)
				announced[fmt.Sprintf("%.0f", h.StartTS)] = e.ID
				continue
			}
		}
		fail(e.ID, err)
	}
	slices.SortFunc(days, openpath.Date.Compare)
	days = slices.Compact(days)
	var docs []*trip.Doc
	for _, day := range days {
		trips, err := r.src.Trips(ctx, day)
		if err != nil {
			return nil, fmt.Errorf("getTrips %s: %w", day, err)
		}
		for _, t := range trips {
			delete(announced, fmt.Sprintf("%.0f", t.StartTS))
			doc, err := trip.FromTimeline(t.Raw, r.origin, now)
			if err != nil {
				fail(t.ID, err)
				continue
			}
			docs = append(docs, doc)
		}
	}
	for start, id := range announced {
		fail(id, fmt.Errorf("the trip starting at %s was announced by find_entries but is missing from its day's getTrips answer", start))
	}
	return docs, nil
}

// saveAccount applies change to the account's current data, unless this is a dry run.
func (r *run) saveAccount(ctx context.Context, change func(*accounts.Data)) error {
	if r.opts.DryRun {
		return nil
	}
	err := r.accounts.UpdateData(ctx, r.account.ID, func(d *accounts.Data) error {
		change(d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save the account's cursor: %w", err)
	}
	return nil
}
