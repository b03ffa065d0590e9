// Package tripsync brings a person's trips from a tracking server into their vault: incrementally,
// idempotently, and without losing a trip.
//
// How a run goes, for one account:
//
//  1. The server's entries, trips and labels together, are read by write time (metadata.write_ts)
//     in windows, from the account's cursors (inclusive: an entry at the cursor is read again and
//     recognised) up to a few minutes before now. Windows are as large as the answers may be
//     (see answerBytes), so a sync takes a few requests per thousand trips.
//  2. Trips come as analysis/composite_trip entries when the server makes them; otherwise the
//     confirmed or cleaned trip entries name the days to fetch with getTrips, each day being the
//     trip's local start date (never UTC).
//  3. Each window's trips are converted, its labels put on them, and they are merged into the vault
//     in one bulk write: a trip already there (same id, or same device and time span after the
//     server re-processed it) is updated only when the server's content or labels changed, and
//     keeps what the app wrote (corrections, aggregates); labels waiting for a trip are applied as
//     it arrives, and the vault's trips that labels land on are written in the same bulk write.
//  4. Only then does the cursor move, in a fresh read-modify-write of the account. A failed
//     request stops the run with the cursor where it was; a trip that cannot be converted is
//     recorded in the account and reported, and the others are saved. A trip that find_entries
//     announced but its day's getTrips answer left out is kept in the account's retry list: every
//     run asks for its day again until it comes (see retry.go).
//  5. Labels (mode, purpose, replaced mode) have their own cursor and land on the trip their time
//     span overlaps most, the latest label winning; a label whose trip is not in the vault yet
//     waits in the account until the trip arrives. One more request reads the labels of the last
//     two weeks again (see labelLookback).
//
// A time budget bounds every request to the server, so a run stops at its deadline even against a
// server that never answers; what was saved stays saved and the next run resumes at the cursor.
package tripsync

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/figures"
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
	// Deadline is the run's time budget (zero: none). Every request to the server is cut at the
	// deadline, and the run then stops cleanly: Summary.Partial, no error.
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

// Summary is what a run did. Its trip counts add up: Fetched = Created + Updated + Unchanged +
// Merged + Failed. Each counts what this run did, so two runs at once do not count the same trip
// as created twice.
type Summary struct {
	Account string `json:"account"`
	// Fetched counts the trips the server sent.
	Fetched   int `json:"trips_fetched"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Merged counts copies of a trip the server processed more than once, merged with another
	// copy (see "Copies of one trip" in merge.go).
	Merged int `json:"merged"`
	// Failed counts the trips the server sent that could not be kept (each is in Errors).
	Failed int `json:"failed"`
	// ToRetry counts the trips the server announced but did not send: the account keeps them and
	// the next runs ask for them again.
	ToRetry       int `json:"to_retry"`
	LabelsApplied int `json:"labels_applied"`
	LabelsPending int `json:"labels_pending"`
	// Errors lists what could not be kept: trips, labels, and trips given up after being missing
	// too long.
	Errors []TripError      `json:"errors"`
	Cursor accounts.Cursors `json:"cursor"`
	// Partial is true when the time budget ran out before the run reached the present.
	Partial bool `json:"partial"`
	DryRun  bool `json:"dry_run,omitempty"`
}

// Kinds of [TripError].
const (
	// ErrorTrip is a trip the server sent that could not be converted.
	ErrorTrip = "trip"
	// ErrorLabel is a label entry that could not be read.
	ErrorLabel = "label"
	// ErrorGaveUp is a trip the server announced but did not send for [retryFor].
	ErrorGaveUp = "missing"
)

// TripError is a trip or label the run could not keep.
type TripError struct {
	Kind   string `json:"kind"`
	TripID string `json:"trip_id"`
	Error  string `json:"error"`
}

// Incomplete reports whether something could not be kept, or is still to be fetched.
func (s Summary) Incomplete() bool { return len(s.Errors) > 0 || s.ToRetry > 0 }

// Index is the trips index a run's queries need: by device, then start time.
var Index = vault.Index{Name: "by-captureDevice-startTs", Fields: []string{"captureDevice", "openpath.startTs"}}

const (
	// settleMargin keeps the cursor this far behind now, so that entries being written while we
	// read, or a clock that differs from the server's, cannot slip behind it.
	settleMargin = 5 * time.Minute
	minWindow    = time.Minute
	maxWindow    = 20 * 366 * 24 * time.Hour
	// Windows are sized so that an answer holds about answerBytes and at most answerEntries: a
	// few requests per thousand trips, far within the client's cap (openpath.DefaultMaxAnswerBytes)
	// and the server's (openpath.ServerEntryCap), and a window's trips held in memory at once stay
	// small. maxGrowth bounds how fast they grow after a sparse window.
	answerBytes   = 24 << 20
	answerEntries = openpath.ServerEntryCap / 5
	maxGrowth     = 16
	// sameTripSlack is how far a re-processed trip's start and end may move and still be the
	// same trip.
	sameTripSlack = 120.0
	// labelReach is how long before a label's start its trip may have started.
	labelReach = 6 * 3600.0
	// labelLookback is how far behind their cursor labels are read again (see sync).
	labelLookback = 14 * 24 * time.Hour
)

// MemoryLimit is the soft memory limit the connector runs under (runtime/debug.SetMemoryLimit).
// A sync holds about three windows' answers at once (see answerBytes), and the garbage collector,
// left to its default pace, lets the heap grow to twice that before collecting: under the limit
// it collects sooner, and the process stays resident under 150 MB, whatever the number of trips
// (125–127 MB at 10k trips, 134–140 MB at 100k, BenchmarkSync10k and 100k). Closer to the live
// heap, the runtime spends its time collecting and giving pages back to the system only to fault
// them in again: at 96 MB a sync took about 10% more CPU per trip (alternated runs: 820–1,010
// µs against 770–860), at 112 MB 7% less, but its resident memory reached 145 MB.
const MemoryLimit = 104 << 20

// Engine syncs accounts into one vault.
type Engine struct {
	trips    *vault.DB
	accounts *accounts.Store
	feed     *figures.Feed
	// beforeConvert, when set (by tests, see export_test.go), is called as each window's
	// conversion starts.
	beforeConvert func()
}

// Option configures an Engine.
type Option func(*Engine)

// WithFiguresFeed makes the engine put the facts and figures of the trips it writes into the
// app's figures cache, so that the app does not read them back (see figures.Feed), and keep the
// app's index of the trips.
func WithFiguresFeed(f *figures.Feed) Option {
	return func(e *Engine) { e.feed = f }
}

// New returns an engine writing trips to the trips database, creating the index it needs.
func New(ctx context.Context, trips *vault.DB, store *accounts.Store, opts ...Option) (*Engine, error) {
	if err := trips.EnsureIndexes(ctx, Index); err != nil {
		return nil, fmt.Errorf("tripsync: %w", err)
	}
	e := &Engine{trips: trips, accounts: store}
	for _, o := range opts {
		o(e)
	}
	if e.feed != nil {
		// The app's index too, kept as the trips are written rather than built at its first open.
		if err := trips.EnsureIndexes(ctx, figures.Indexes...); err != nil {
			return nil, fmt.Errorf("tripsync: %w", err)
		}
	}
	return e, nil
}

// run is the state of one Sync call.
type run struct {
	*Engine
	opts Options
	log  *slog.Logger
	src  Source
	// budget is the context of every request to the server: the run's, cut at its deadline.
	// The vault is written with the run's own context, so that what was fetched is saved.
	budget  context.Context
	account *accounts.Account
	origin  openpath.Origin
	sum     Summary
	pending []accounts.PendingLabel
	retry   []accounts.RetryTrip
}

// errBudget is the cause of the budget context's end.
var errBudget = errors.New("time budget reached")

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
	budget, cancel := ctx, context.CancelFunc(func() {})
	if !opts.Deadline.IsZero() {
		budget, cancel = context.WithDeadlineCause(ctx, opts.Deadline, errBudget)
	}
	defer cancel()
	r := &run{
		Engine: e, opts: opts, src: src, account: account, budget: budget,
		log:     opts.Logger.With("account", account.ID, "device", account.Auth.Login),
		origin:  openpath.Origin{Server: opts.Server, Device: account.Auth.Login, AccountID: account.ID, App: accounts.Slug, AppVersion: opts.AppVersion},
		sum:     Summary{Account: account.ID, Cursor: account.Data.Cursors, DryRun: opts.DryRun, Errors: []TripError{}},
		pending: slices.Clone(account.Data.PendingLabels),
		retry:   slices.Clone(account.Data.Retry),
	}
	err := r.sync(ctx)
	if errors.Is(err, errBudget) {
		r.sum.Partial = true
		r.log.Info("time budget reached; the next run resumes here", "cursor", r.sum.Cursor.Trips)
		err = nil
	}
	if ferr := r.flushCursors(context.WithoutCancel(ctx)); err == nil {
		err = ferr
	}
	r.sum.LabelsPending = len(r.pending)
	r.sum.ToRetry = len(r.retry)
	return r.sum, err
}

// fetched checks the outcome of a request to the server: a request the time budget cut is
// errBudget.
func (r *run) fetched(err error) error {
	if err != nil && context.Cause(r.budget) == errBudget && r.budget.Err() != nil {
		return fmt.Errorf("%w (%w)", errBudget, err)
	}
	return err
}

func (r *run) sync(ctx context.Context) error {
	span, err := r.src.PipelineRange(r.budget)
	if err = r.fetched(err); err != nil {
		return err
	}
	if span.Empty {
		r.log.Info("the server has no processed trips yet")
		return nil
	}
	upper := float64(r.opts.Now().Add(-settleMargin).UnixNano()) / 1e9
	composite, err := r.serverMakesComposites(span)
	if err = r.fetched(err); err != nil {
		return err
	}
	if err := r.retryMissing(ctx); err != nil {
		return err
	}
	keys := []string{openpath.KeyConfirmedTrip, openpath.KeyCleanedTrip}
	if composite {
		keys = []string{openpath.KeyCompositeTrip}
	}
	// Trips and labels are read in the same pass, so that a label reaches its trip before the trip
	// is written, in the same bulk write.
	from := min(r.start(r.sum.Cursor.Trips, span), r.start(r.sum.Cursor.Labels, span))
	// On the getTrips path, saving a window makes requests of its own: the next window is asked for
	// only after it, so that requests follow one another as the server sees them.
	done, err := r.windows(ctx, append(keys, openpath.LabelKeys()...), from, upper, span.EndTS, r.opts.FirstWindow.Seconds(), composite, composite, func(w *window) error {
		return r.saveWindow(ctx, w, composite, true)
	})
	if err != nil || !done || !r.opts.Since.IsZero() {
		return err
	}
	// The phone stamps a label's write_ts when the person labels the trip, not when the server
	// receives it: a phone that uploads late writes entries behind the cursor. Labels are small and
	// applying one twice changes nothing, so each run reads them again from labelLookback back: one
	// more request.
	lookback := max(span.StartTS, r.start(r.account.Data.Cursors.Labels, span)-labelLookback.Seconds())
	if lookback >= from {
		return nil // nothing was read before this run
	}
	_, err = r.windows(ctx, openpath.LabelKeys(), lookback, from, from, from-lookback, true, false, func(w *window) error {
		return r.saveWindow(ctx, w, false, false)
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
func (r *run) serverMakesComposites(span openpath.PipelineRange) (bool, error) {
	entries, err := r.src.FindEntries(r.budget, openpath.EntryQuery{
		Keys: []string{openpath.KeyCompositeTrip}, KeyTime: openpath.KeyTimeStartTS,
		Start: span.EndTS - 7*24*3600, End: span.EndTS + 1,
	})
	return len(entries) > 0, err
}

// windows reads entries of keys by write time from `from` to `upper`, window by window, and hands
// each complete window to save. The first window is `first` seconds long; each next one is as long
// as the last one's density says fits in answerBytes and answerEntries, growing at most
// maxGrowth-fold. From `sparse` on (the end of the server's last trip), only the few entries
// written since can come: the rest is read in one window. With ahead, the next window is asked for
// as soon as the current one's answer has arrived, while the current one is converted and saved,
// so that the server's work, the conversion and the vault's overlap. It returns false when the
// time budget stopped it. With convert, the composite trips of a window are converted as soon as
// it arrives, still while the previous window is saved. At most two answers are held at once: the
// one being converted and the next one, asked for only once the previous window is saved.
func (r *run) windows(ctx context.Context, keys []string, from, upper, sparse, first float64, ahead, convert bool, save func(*window) error) (bool, error) {
	// early is the context of the request asked for ahead: cancelled when the loop stops early.
	early, cancel := context.WithCancel(r.budget)
	defer cancel()
	type answer struct {
		w   *window
		err error
		// converted is closed once w's trips are converted: w.trips and w.tripEntries are the
		// converting goroutine's until then.
		converted <-chan struct{}
	}
	ask := func(from, end float64) <-chan answer {
		ch := make(chan answer, 1) // buffered: the request ends even if nobody reads its answer
		now := r.opts.Now()        // read here: the clock need not be safe for concurrent use
		go func() {
			entries, err := r.src.FindEntries(early, openpath.EntryQuery{Keys: keys, Start: from, End: end, KeyTime: openpath.KeyTimeWriteTS})
			w := newWindow(entries, end, now)
			converted := make(chan struct{})
			if err != nil || !convert || w.count >= openpath.ServerEntryCap {
				close(converted)
				ch <- answer{w, err, converted}
				return
			}
			// The answer is told as soon as it has arrived, before its conversion: the next
			// window is asked for then, so that the server prepares it while this one converts.
			ch <- answer{w, err, converted}
			if r.beforeConvert != nil {
				r.beforeConvert()
			}
			w.convert(r.origin)
			close(converted)
		}()
		return ch
	}
	window := max(first, minWindow.Seconds())
	var next <-chan answer // the request for [from, end], when asked for ahead
	var end float64
	for from < upper {
		if next == nil {
			if !r.opts.Deadline.IsZero() && r.opts.Now().After(r.opts.Deadline) {
				return false, errBudget
			}
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if from >= sparse {
				window = max(window, upper-from)
			}
			end = min(from+window, upper)
			next = ask(from, end)
		}
		a := <-next
		next = nil
		err := a.err
		if err == nil && a.w.count >= openpath.ServerEntryCap && window > minWindow.Seconds() {
			err = fmt.Errorf("%d entries, the server's cap: %w", a.w.count, openpath.ErrAnswerTooLarge) // the server cut the answer
		}
		if errors.Is(err, openpath.ErrAnswerTooLarge) && end-from > minWindow.Seconds() {
			// Too many entries for one answer: ask for a shorter window.
			window = max((end-from)/4, minWindow.Seconds())
			r.log.Info("answer over the size cap; asking for a shorter window", "window", time.Duration(window*float64(time.Second)))
			continue
		}
		if err = r.fetched(err); err != nil {
			return false, err
		}
		seconds := end - from
		window = nextWindow(a.w.count, a.w.size, seconds)
		if from = end; ahead && from < upper && ctx.Err() == nil && (r.opts.Deadline.IsZero() || !r.opts.Now().After(r.opts.Deadline)) {
			if from >= sparse {
				window = max(window, upper-from)
			}
			end = min(from+window, upper)
			next = ask(from, end)
		}
		<-a.converted
		if err := save(a.w); err != nil {
			return false, err
		}
		if next == nil {
			// Saving may have fetched the trips themselves (getTrips): the next window is sized by
			// them too, so that it holds no more trips in memory than an answer would.
			window = nextWindow(a.w.count, a.w.size, seconds)
		}
		if r.opts.Progress != nil {
			r.opts.Progress(r.sum)
		}
	}
	return true, nil
}

// nextWindow sizes the window after one of seconds that answered count entries of size bytes in
// all: as long as fits answerBytes and answerEntries at the same density, growing at most
// maxGrowth-fold.
func nextWindow(count, size int, seconds float64) float64 {
	next := seconds * maxGrowth
	if size > 0 {
		next = min(next, seconds*answerBytes/float64(size))
	}
	if count > 0 {
		next = min(next, seconds*answerEntries/float64(count))
	}
	return min(max(next, minWindow.Seconds()), maxWindow.Seconds())
}

// window is one answer of find_entries: its entries split into trips and labels, and, once
// converted, its composite trips.
type window struct {
	// count and size are the answer's number of entries and bytes, and size also counts the
	// trips' bytes when saving fetches them (getTrips).
	count, size         int
	tripEntries, labels []openpath.Entry
	// end is the window's end, the cursor once it is saved; now the run's clock when it was asked.
	end float64
	now time.Time
	// trips is the window's composite trips converted (see convert), nil until then.
	trips *batch
}

func newWindow(entries []openpath.Entry, end float64, now time.Time) *window {
	w := &window{count: len(entries), end: end, now: now}
	for _, e := range entries {
		w.size += len(e.Raw)
		if slices.Contains(openpath.LabelKeys(), e.Metadata.Key) {
			w.labels = append(w.labels, e)
		} else {
			w.tripEntries = append(w.tripEntries, e)
		}
	}
	return w
}

// convert converts the window's composite trip entries, then lets the answer go: its labels are
// copied out of it (they are small; the answer is tens of MB, and would otherwise be held until
// the window is saved, while the next answers arrive). It touches nothing but the window, so that
// it may run while another window is saved.
func (w *window) convert(o openpath.Origin) {
	w.trips = &batch{}
	for _, e := range w.tripEntries {
		w.trips.add(e.ID, func() (*trip.Doc, error) { return openpath.FromCompositeEntry(e, o, w.now) })
	}
	w.tripEntries = nil
	for i := range w.labels {
		w.labels[i].Raw = bytes.Clone(w.labels[i].Raw)
	}
}

// saveWindow converts a window's trips (unless done already), puts its labels on them (or on the
// vault's trips), writes them into the vault in one bulk write and moves the cursors: the trip
// cursor when tripCursor, the label cursor when it is behind the window's end.
func (r *run) saveWindow(ctx context.Context, w *window, composite, tripCursor bool) error {
	now, end := w.now, w.end
	tripEntries, labelEntries := w.tripEntries, w.labels
	b := w.trips
	var missing []accounts.RetryTrip
	switch {
	case b != nil:
	case composite:
		w.convert(r.origin)
		b = w.trips
	default:
		b = &batch{}
		if len(tripEntries) > 0 {
			var err error
			if missing, err = r.tripsOfDays(tripEntries, now, b); err != nil {
				return err
			}
			for _, d := range b.docs {
				for _, s := range d.Series {
					w.size += len(s)
				}
			}
		}
	}
	applied, waiting, err := r.keep(ctx, b, r.readLabels(labelEntries))
	if err != nil {
		return err
	}
	r.retry = addRetries(r.retry, missing)
	if tripCursor {
		r.sum.Cursor.Trips = end
	}
	r.sum.Cursor.Labels = max(r.sum.Cursor.Labels, end)
	if w.count == 0 {
		return nil // nothing to record but the cursors: flushCursors saves them once at the end
	}
	return r.saveAccount(ctx, func(d *accounts.Data) {
		if tripCursor {
			d.Cursors.Trips = end
		}
		d.Cursors.Labels = max(d.Cursors.Labels, end)
		d.PendingLabels = addLabels(removeLabels(d.PendingLabels, applied), waiting)
		d.Retry = addRetries(d.Retry, missing)
		b.record(d, now)
	})
}

// batch is the trips a window (or a retry) fetched: converted, or failed.
type batch struct {
	docs     []*trip.Doc
	failures []TripError
}

// add converts one trip the server sent.
func (b *batch) add(id string, convert func() (*trip.Doc, error)) {
	doc, err := convert()
	if err != nil {
		b.failures = append(b.failures, TripError{Kind: ErrorTrip, TripID: id, Error: err.Error()})
		return
	}
	b.docs = append(b.docs, doc)
}

// record keeps the batch's failures in the account, for `status`.
func (b *batch) record(d *accounts.Data, now time.Time) {
	for _, f := range b.failures {
		d.RecordFailure(f.TripID, errors.New(f.Error), now)
	}
}

// keep merges a batch's trips, with labels, into the vault and counts them, failures included.
func (r *run) keep(ctx context.Context, b *batch, labels []accounts.PendingLabel) (applied, waiting []accounts.PendingLabel, err error) {
	for _, f := range b.failures {
		r.log.Warn("trip skipped", "trip", f.TripID, "error", f.Error)
	}
	applied, waiting, err = r.merge(ctx, b.docs, labels)
	if err != nil {
		return nil, nil, err
	}
	r.sum.Fetched += len(b.docs) + len(b.failures)
	r.sum.Failed += len(b.failures)
	r.sum.Errors = append(r.sum.Errors, b.failures...)
	return applied, waiting, nil
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

// tripsOfDays fetches with getTrips every local day the entries' trips started on, and returns the
// announced trips that their day's answer left out.
func (r *run) tripsOfDays(entries []openpath.Entry, now time.Time, b *batch) ([]accounts.RetryTrip, error) {
	var days []openpath.Date
	announced := map[int64]accounts.RetryTrip{} // by start second, until getTrips gives the trip
	for _, e := range entries {
		h, err := e.TripHeader()
		if err == nil {
			var day openpath.Date
			if day, err = h.StartDate(); err == nil {
				days = append(days, day)
				announced[startSecond(h.StartTS)] = accounts.RetryTrip{EntryID: e.ID, Day: day.String(), StartTS: h.StartTS, EndTS: h.EndTS}
				continue
			}
		}
		b.failures = append(b.failures, TripError{Kind: ErrorTrip, TripID: e.ID, Error: err.Error()})
	}
	slices.SortFunc(days, openpath.Date.Compare)
	days = slices.Compact(days)
	for _, day := range days {
		trips, err := r.src.Trips(r.budget, day)
		if err = r.fetched(err); err != nil {
			return nil, fmt.Errorf("getTrips %s: %w", day, err)
		}
		for _, t := range trips {
			delete(announced, startSecond(t.StartTS))
			b.add(t.ID, func() (*trip.Doc, error) { return openpath.FromTimeline(t.Raw, r.origin, now) })
		}
	}
	var missing []accounts.RetryTrip
	for _, m := range announced {
		m.Since, m.Reason = now.UTC().Format(time.RFC3339), "announced by find_entries but missing from its day's getTrips answer"
		missing = append(missing, m)
	}
	slices.SortFunc(missing, func(a, b accounts.RetryTrip) int { return cmp.Compare(a.StartTS, b.StartTS) })
	return missing, nil
}

// startSecond is how an announced trip is recognised in its day's answer: by its start second.
func startSecond(ts float64) int64 { return int64(math.Round(ts)) }

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
