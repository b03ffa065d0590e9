// Package coach is the app's service layer: a person's vault with the trips' figures kept
// current, the settings in force, and the operations the command line and the web app offer
// (reports, trip lists, corrections, settings, exports). Both front ends call it; neither talks to
// the vault directly.
package coach

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/export"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Coach is one person's coach over their vault. It is safe for concurrent use.
type Coach struct {
	vault      *vault.Vault
	trips      *vault.DB
	settingsDB *vault.DB

	// mu guards the settings in force and what derives from them.
	mu        sync.RWMutex
	settings  settings.Settings
	set       *co2.FactorSet
	inputs    figures.Inputs
	refreshed figures.Result
	// refreshMu makes Refresh calls take turns.
	refreshMu sync.Mutex
	// memo keeps the figures cache decoded between requests.
	memo figures.Memo
	// snap is the last snapshot of the figures (under mu); snapMu makes the requests that find
	// it stale take turns, so that one takes the new one while the others wait for it.
	snap   *snapshot
	snapMu sync.Mutex
	// seqs asks the trips database's update sequence for concurrent requests at once.
	seqs seqGate

	// life bounds the coach's background work: Open's context.
	life context.Context
	// bg is the background recompute's progress, bgGen counts the recomputes started and bgDone
	// is closed when the latest ends; all under mu.
	bg     Progress
	bgGen  int
	bgDone chan struct{}
}

// Progress says how far the recompute that a settings change started in the background is.
type Progress struct {
	Running bool `json:"running"`
	// Done of Total stale trips are recomputed; Total is 0 until the stale trips are known.
	Done  int `json:"done"`
	Total int `json:"total"`
	// Failed is set when the recompute stopped on an error (logged); the next page's refresh
	// tries again.
	Failed bool `json:"failed,omitempty"`
}

// Open prepares the coach over an open vault: the trips' index, the settings, and every trip's
// figures brought up to date (figures computed with another factor set, other settings or an older
// trip are recomputed).
func Open(ctx context.Context, v *vault.Vault) (*Coach, error) {
	c := &Coach{vault: v, life: ctx}
	var err error
	if c.trips, err = v.DB(ctx, vault.DoctypeTrips); err != nil {
		return nil, err
	}
	c.seqs.read = func() (string, error) { return c.updateSeq(c.life) }
	if err := c.trips.EnsureIndexes(ctx, figures.Indexes...); err != nil {
		return nil, err
	}
	if c.settingsDB, err = v.DB(ctx, vault.DoctypeSettings); err != nil {
		return nil, err
	}
	s, err := settings.Load(ctx, c.settingsDB)
	if err != nil {
		return nil, err
	}
	if err := c.use(ctx, s); err != nil {
		return nil, err
	}
	return c, nil
}

// use makes s the settings in force and recomputes the figures they change.
func (c *Coach) use(ctx context.Context, s settings.Settings) error {
	if err := c.setInputs(s); err != nil {
		return err
	}
	_, err := c.Refresh(ctx)
	return err
}

// setInputs makes s the settings in force.
func (c *Coach) setInputs(s settings.Settings) error {
	id := s.FactorSet
	if id == "" {
		id = co2.DefaultSetID
	}
	set, err := co2.Lookup(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.settings, c.set, c.inputs = s, set, figures.NewInputs(set, s)
	c.mu.Unlock()
	return nil
}

// Refresh brings the figures up to date with the trips (after a sync, say) and returns what it
// did. While a recompute runs in the background (UpdateSettingsInBackground), it returns at once
// with the last result: the figures read meanwhile are the ones already stored, and every CO2
// figure is computed with the factor set in force anyway.
func (c *Coach) Refresh(ctx context.Context) (figures.Result, error) {
	if c.Recomputing().Running {
		return c.LastRefresh(), nil
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	res, err := figures.Refresh(ctx, c.trips, c.Inputs(), false)
	c.mu.Lock()
	c.refreshed = res
	c.mu.Unlock()
	if err != nil {
		return res, fmt.Errorf("bring the trips' figures up to date: %w", err)
	}
	return res, nil
}

// Recompute recomputes every trip's figures.
func (c *Coach) Recompute(ctx context.Context) (figures.Result, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	return figures.Refresh(ctx, c.trips, c.Inputs(), true)
}

// LastRefresh says what the last Refresh did.
func (c *Coach) LastRefresh() figures.Result {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.refreshed
}

// Settings returns the settings in force.
func (c *Coach) Settings() settings.Settings {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.settings
}

// FactorSet returns the factor set in force.
func (c *Coach) FactorSet() *co2.FactorSet {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.set
}

// Inputs returns the inputs of the figures in force.
func (c *Coach) Inputs() figures.Inputs {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.inputs
}

// UpdateSettings changes the settings, saves them and recomputes what they change.
func (c *Coach) UpdateSettings(ctx context.Context, change func(*settings.Settings) error) (settings.Settings, error) {
	s, err := settings.Update(ctx, c.settingsDB, change)
	if err != nil {
		return s, err
	}
	return s, c.use(ctx, s)
}

// UpdateSettingsInBackground changes the settings and saves them like UpdateSettings, but
// recomputes what they change in the background (a factor set change recomputes every trip):
// it returns once the settings are saved. Recomputing says how far the recompute is, and
// WaitRecompute waits for its end.
func (c *Coach) UpdateSettingsInBackground(ctx context.Context, change func(*settings.Settings) error) (settings.Settings, error) {
	s, err := settings.Update(ctx, c.settingsDB, change)
	if err != nil {
		return s, err
	}
	if err := c.setInputs(s); err != nil {
		return s, err
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.bgGen++
	gen := c.bgGen
	c.bg, c.bgDone = Progress{Running: true}, done
	c.mu.Unlock()
	go c.recomputeInBackground(gen, done)
	return s, nil
}

// recomputeInBackground brings the figures up to date with the inputs in force, reporting its
// progress as recompute number gen, and closes done at the end.
func (c *Coach) recomputeInBackground(gen int, done chan struct{}) {
	defer close(done)
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	res, err := figures.RefreshProgress(c.life, c.trips, c.Inputs(), false, func(n, total int) {
		c.mu.Lock()
		if c.bgGen == gen {
			c.bg.Done, c.bg.Total = n, total
		}
		c.mu.Unlock()
	})
	if err != nil && c.life.Err() == nil { // stopping the app is no error: the next start resumes
		slog.Error("recompute the trips' figures after a settings change", "error", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.refreshed = res
	}
	if c.bgGen == gen {
		c.bg.Running, c.bg.Failed = false, err != nil
	}
}

// Recomputing says how far the latest background recompute is.
func (c *Coach) Recomputing() Progress {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bg
}

// WaitRecompute waits until no background recompute runs, or ctx ends, and returns the latest's
// progress.
func (c *Coach) WaitRecompute(ctx context.Context) (Progress, error) {
	for {
		c.mu.RLock()
		done, p := c.bgDone, c.bg
		c.mu.RUnlock()
		if done == nil || !p.Running {
			return p, nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return p, ctx.Err()
		}
	}
}

// SuggestPlaces suggests the person's home and work from their trips (see
// figures.SuggestPlaces); either is nil when the trips do not show it.
func (c *Coach) SuggestPlaces(ctx context.Context) (home, work *places.Suggestion, err error) {
	return figures.SuggestPlaces(ctx, c.trips)
}

// Report computes the indicators of a query; set nil means the factor set in force. The report is
// computed once until the trips or the settings change, and shared by the callers asking for it
// meanwhile: read it, never modify it.
func (c *Coach) Report(ctx context.Context, q indicators.Query, set *co2.FactorSet) (*indicators.Report, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	// The trips may have changed since (a sync, an edit): the view brings the figures up to date
	// first, which costs one question to the store when nothing changed.
	snap, err := c.view(ctx)
	if err != nil {
		return nil, err
	}
	if set == nil {
		set = c.FactorSet()
	}
	return snap.report(q, set), nil
}

// TripQuery filters a trip list.
type TripQuery struct {
	indicators.Query
	Mode    trip.Mode
	Purpose trip.Purpose
	// Offset and Limit page the list (newest first); Limit 0 means all.
	Offset, Limit int
}

// TripSummary is one row of a trip list.
type TripSummary struct {
	ID         string       `json:"id"`
	Device     string       `json:"device"`
	Start      string       `json:"start"`
	End        string       `json:"end"`
	Title      string       `json:"title"`
	Modes      []trip.Mode  `json:"modes"`
	Purpose    trip.Purpose `json:"purpose"`
	DistanceM  float64      `json:"distance_m"`
	DurationS  float64      `json:"duration_s"`
	CO2Kg      float64      `json:"co2_kg"`
	CaloriesKc float64      `json:"calories_kcal"`
	NotATrip   bool         `json:"not_a_trip,omitempty"`
	Recurring  bool         `json:"recurring,omitempty"`
}

// ListTrips returns the trips matching q, newest first, and how many match in all. It reads the
// figures as the view has them, and makes a row only of the trips of the page asked for.
func (c *Coach) ListTrips(ctx context.Context, q TripQuery) ([]TripSummary, int, error) {
	if err := q.Validate(); err != nil {
		return nil, 0, err
	}
	snap, err := c.view(ctx)
	if err != nil {
		return nil, 0, err
	}
	set := c.FactorSet()
	trips := snap.newestIn(q.From, q.To)
	if len(q.Devices) > 0 || q.Mode != "" || q.Purpose != "" {
		var kept []*cachedTrip
		for _, t := range trips {
			if (len(q.Devices) == 0 || slices.Contains(q.Devices, t.Device)) &&
				(q.Mode == "" || t.hasMode(q.Mode)) && (q.Purpose == "" || t.Purpose == q.Purpose) {
				kept = append(kept, t)
			}
		}
		trips = kept
	}
	total := len(trips)
	from, to := min(q.Offset, total), total
	if q.Limit > 0 {
		to = min(from+q.Limit, total)
	}
	out := make([]TripSummary, 0, to-from)
	for _, t := range trips[from:to] {
		a := t.Aggregation()
		a.TotalCO2 = 0 // with the factor set in force
		for _, s := range a.Sections {
			a.TotalCO2 += set.SectionCO2(s.Mode, s.Distance)
		}
		out = append(out, Summarize(t.id, t.Device, a))
	}
	return out, total, nil
}

// LastMonth returns the last month with trips ("YYYY-MM"), "" when there are none.
func (c *Coach) LastMonth(ctx context.Context) (string, error) {
	snap, err := c.view(ctx)
	if err != nil || len(snap.months) == 0 {
		return "", err
	}
	return snap.months[len(snap.months)-1], nil
}

// Summarize makes a trip's list row from its figures.
func Summarize(id, device string, a trip.Aggregation) TripSummary {
	end := a.LocalStart
	if n := len(a.Sections); n > 0 {
		end = a.Sections[n-1].EndDate
	}
	return TripSummary{ID: id, Device: device, Start: a.LocalStart, End: end, Title: a.ShownTitle(), Modes: a.Modes,
		Purpose: a.Purpose, DistanceM: a.TotalDistance, DurationS: a.TotalDuration, CO2Kg: a.TotalCO2,
		CaloriesKc: a.TotalCalories, NotATrip: a.NotATrip, Recurring: a.Recurring}
}

// Trip returns one trip with its figures.
func (c *Coach) Trip(ctx context.Context, id string) (*trip.Doc, trip.Aggregation, error) {
	var d trip.Doc
	rev, err := c.trips.Get(ctx, id, &d)
	if err != nil {
		return nil, trip.Aggregation{}, err
	}
	d.ID, d.Rev = id, rev
	a, err := figures.Compute(&d, c.Inputs())
	if err != nil {
		return nil, a, err
	}
	return &d, a, nil
}

// Edit applies a correction to a trip and returns the trips its purpose propagated to (see
// PreviewEdit).
func (c *Coach) Edit(ctx context.Context, id string, e figures.Edit) ([]string, error) {
	return figures.Apply(ctx, c.trips, id, e)
}

// PreviewEdit returns the trips whose purpose Edit(id, e) would change, changing nothing: a
// recurring trip's purpose reaches similar trips whose purpose neither the person nor their phone
// gave.
func (c *Coach) PreviewEdit(ctx context.Context, id string, e figures.Edit) ([]string, error) {
	return figures.Preview(ctx, c.trips, id, e)
}

// Propagated returns the trips that took their purpose from the recurring trip id.
func (c *Coach) Propagated(ctx context.Context, id string) ([]string, error) {
	return figures.Propagated(ctx, c.trips, id)
}

// UndoRecurring makes trip id no longer recurring and takes back the purposes it gave to similar
// trips; it returns those trips.
func (c *Coach) UndoRecurring(ctx context.Context, id string) ([]string, error) {
	ids, err := figures.Propagated(ctx, c.trips, id)
	if err != nil {
		return nil, err
	}
	off := false
	if _, err := figures.Apply(ctx, c.trips, id, figures.Edit{Recurring: &off}); err != nil {
		return nil, err
	}
	// Apply takes back the purposes when the trip was recurring with a purpose; this also covers
	// a trip that was not (its copies are then left from an earlier state).
	if _, err := figures.Undo(ctx, c.trips, id); err != nil {
		return nil, err
	}
	return ids, nil
}

// Attestation gathers the Forfait Mobilités Durables attestation of a year: the bike-commute days
// (the indicators' 12-hour rule) with that day's bike commutes, and the person's details from the
// bike goal settings.
func (c *Coach) Attestation(ctx context.Context, year int, lang string, now time.Time) (export.Attestation, error) {
	s := c.Settings()
	at := export.Attestation{Year: year, FirstName: s.BikeGoal.FirstName, LastName: s.BikeGoal.LastName,
		Employer: s.BikeGoal.Employer, Place: s.BikeGoal.Place, Date: now, Lang: lang}
	prefix := strconv.Itoa(year) + "-"
	byDay := map[string][]export.BikeTrip{}
	var commutes []indicators.Commute
	err := figures.EachFigures(ctx, c.trips, c.Inputs(), func(f figures.Figures) error {
		a := f.Aggregation
		if !strings.HasPrefix(a.LocalStart, prefix) || !indicators.IsBikeCommute(&a) {
			return nil
		}
		if len(s.Devices) > 0 && !slices.Contains(s.Devices, f.CaptureDevice) {
			return nil
		}
		day := a.LocalStart[:10]
		commutes = append(commutes, indicators.Commute{StartTS: a.StartTS, Day: day})
		modes := make([]string, len(a.Modes))
		for i, m := range a.Modes {
			modes[i] = string(m)
		}
		end := a.LocalStart
		if n := len(a.Sections); n > 0 {
			end = a.Sections[n-1].EndDate
		}
		byDay[day] = append(byDay[day], export.BikeTrip{Start: a.LocalStart, End: end, DistanceKm: a.TotalDistance / 1000, Modes: modes})
		return nil
	})
	if err != nil {
		return at, err
	}
	for _, day := range indicators.BikeDays(commutes) {
		at.Days = append(at.Days, export.BikeDay{Date: day, Trips: byDay[day]})
	}
	return at, nil
}
