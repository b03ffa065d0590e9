package figures

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// The figures cache keeps, per calendar month, the few numbers of each trip that indicators read,
// in _local documents of the trips database ("figures-YYYY-MM", listed in "figures-index"). A
// report then reads a few small documents instead of every trip. It is derived data: Refresh
// keeps it in step with the trips through the changes feed, and rebuilds it whenever the inputs
// of the figures change; deleting it only costs a rebuild.

// cacheVersion changes when the cache's layout does. 4: months in a binary form (cachecodec.go).
const cacheVersion = 4

const (
	cacheIndexID  = "figures-index"
	cacheMonthDoc = "figures-"
)

// Cached is what the cache holds of a trip: what indicators and trip lists read.
type Cached struct {
	Device     string `json:"d"`
	LocalStart string `json:"s"`
	LocalEnd   string `json:"e,omitempty"`
	Title      string `json:"n,omitempty"`
	// ManualTitle is the person's title, shown instead of Title when set.
	ManualTitle   string          `json:"mt,omitempty"`
	Recurring     bool            `json:"r,omitempty"`
	TotalCO2      float64         `json:"k"`
	StartTS       float64         `json:"t"`
	Purpose       trip.Purpose    `json:"p"`
	NotATrip      bool            `json:"x,omitempty"`
	TotalDuration float64         `json:"u"`
	TotalCalories float64         `json:"c"`
	Sections      []CachedSection `json:"m"`
}

// CachedSection is a section's mode and numbers.
type CachedSection struct {
	Mode     trip.Mode `json:"m"`
	Distance float64   `json:"d"`
	Duration float64   `json:"u"`
	Calories float64   `json:"c"`
}

// Aggregation returns the cached figures as a (partial) aggregation: what indicators and trip
// lists read.
func (c Cached) Aggregation() trip.Aggregation {
	a := trip.Aggregation{LocalStart: c.LocalStart, StartTS: c.StartTS, Purpose: c.Purpose, NotATrip: c.NotATrip,
		TotalDuration: c.TotalDuration, TotalCalories: c.TotalCalories, TotalCO2: c.TotalCO2,
		AutomaticTitle: c.Title, Title: c.ManualTitle, Recurring: c.Recurring}
	a.Sections = make([]trip.SectionAggregate, len(c.Sections))
	seen := map[trip.Mode]bool{}
	for i, s := range c.Sections {
		a.Sections[i] = trip.SectionAggregate{Mode: s.Mode, Distance: s.Distance, Duration: s.Duration, Calories: s.Calories}
		a.TotalDistance += s.Distance
		if !seen[s.Mode] {
			seen[s.Mode] = true
			a.Modes = append(a.Modes, s.Mode)
		}
	}
	if n := len(a.Sections); n > 0 {
		a.Sections[n-1].EndDate = c.LocalEnd
	}
	return a
}

func cachedOf(device string, a trip.Aggregation) Cached {
	c := Cached{Device: device, LocalStart: a.LocalStart, StartTS: a.StartTS, Purpose: a.Purpose, NotATrip: a.NotATrip,
		TotalDuration: a.TotalDuration, TotalCalories: a.TotalCalories, TotalCO2: a.TotalCO2, Title: a.AutomaticTitle, ManualTitle: a.Title,
		Recurring: a.Recurring, Sections: make([]CachedSection, len(a.Sections))}
	if n := len(a.Sections); n > 0 {
		c.LocalEnd = a.Sections[n-1].EndDate
	}
	for i, s := range a.Sections {
		c.Sections[i] = CachedSection{Mode: s.Mode, Distance: s.Distance, Duration: s.Duration, Calories: s.Calories}
	}
	return c
}

type cacheIndex struct {
	Version int      `json:"version"`
	Months  []string `json:"months"`
	// Gen counts the rewrites of each month's document, so that a Memo knows when its copy is
	// stale, whichever process rewrote it.
	Gen map[string]int `json:"gen"`
}

type cacheMonth struct {
	Trips map[string]Cached `json:"trips"`
}

func monthOf(a trip.Aggregation) string {
	if len(a.LocalStart) < 7 {
		return "unknown"
	}
	return a.LocalStart[:7]
}

// rebuildCache writes the cache anew from every trip's current figures.
func rebuildCache(ctx context.Context, trips *vault.DB) error {
	months := map[string]*cacheMonth{}
	err := EachFigures(ctx, trips, func(f Figures) error {
		addToMonths(months, f)
		return nil
	})
	if err != nil {
		return err
	}
	return replaceCache(ctx, trips, months)
}

// buildCache writes the cache anew from figs, every trip's current figures.
func buildCache(ctx context.Context, trips *vault.DB, figs []Figures) error {
	months := map[string]*cacheMonth{}
	for _, f := range figs {
		addToMonths(months, f)
	}
	return replaceCache(ctx, trips, months)
}

func addToMonths(months map[string]*cacheMonth, f Figures) {
	if f.Aggregation.Stamp.Engine == 0 {
		return // no figures (they could not be computed)
	}
	m := months[monthOf(f.Aggregation)]
	if m == nil {
		m = &cacheMonth{Trips: map[string]Cached{}}
		months[monthOf(f.Aggregation)] = m
	}
	m.Trips[f.ID] = cachedOf(f.CaptureDevice, f.Aggregation)
}

// replaceCache writes months as the whole cache: the months it had and months lacks are emptied.
func replaceCache(ctx context.Context, trips *vault.DB, months map[string]*cacheMonth) error {
	var old cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &old); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	for _, month := range old.Months {
		if months[month] == nil {
			months[month] = &cacheMonth{Trips: map[string]Cached{}} // emptied
		}
	}
	return writeMonths(ctx, trips, months)
}

// updateCache applies changed and deleted trips to the cache, with their figures as they are now.
func updateCache(ctx context.Context, trips *vault.DB, cs changeSet) error {
	if len(cs.changed)+len(cs.deleted) == 0 {
		return nil // nothing changed: nothing to read or write
	}
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil {
		return err
	}
	months := map[string]*cacheMonth{}
	load := func(month string) (*cacheMonth, error) {
		if m := months[month]; m != nil {
			return m, nil
		}
		m := &cacheMonth{Trips: map[string]Cached{}}
		if slices.Contains(index.Months, month) {
			if err := trips.GetLocal(ctx, cacheMonthDoc+month, m); err != nil && !errors.Is(err, vault.ErrNotFound) {
				return nil, err
			}
			if m.Trips == nil {
				m.Trips = map[string]Cached{}
			}
		}
		months[month] = m
		return m, nil
	}
	forget := func(id string) error { // the trip's month may have changed: look in every month
		for _, month := range index.Months {
			m, err := load(month)
			if err != nil {
				return err
			}
			delete(m.Trips, id)
		}
		return nil
	}
	for _, id := range slices.Concat(cs.changed, cs.deleted) {
		if err := forget(id); err != nil {
			return err
		}
	}
	for start := 0; start < len(cs.changed); start += batchSize {
		figs, err := vault.GetMany[Figures](ctx, trips, cs.changed[start:min(start+batchSize, len(cs.changed))])
		if err != nil {
			return err
		}
		for _, f := range figs {
			if f.Aggregation.Stamp.Engine == 0 {
				continue
			}
			m, err := load(monthOf(f.Aggregation))
			if err != nil {
				return err
			}
			m.Trips[f.ID] = cachedOf(f.CaptureDevice, f.Aggregation)
		}
	}
	if len(months) == 0 {
		return nil // nothing changed: nothing to write
	}
	return writeMonths(ctx, trips, months)
}

// Months returns the months the cache has trips in, in order.
func Months(ctx context.Context, trips *vault.DB) ([]string, error) {
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil {
		return nil, fmt.Errorf("the figures cache is missing (open the app once to build it): %w", err)
	}
	return index.Months, nil
}

// writeMonths writes the month documents and the index listing every month.
func writeMonths(ctx context.Context, trips *vault.DB, months map[string]*cacheMonth) error {
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	index.Version = cacheVersion
	if index.Gen == nil {
		index.Gen = map[string]int{}
	}
	for month, m := range months {
		if err := trips.PutLocal(ctx, cacheMonthDoc+month, m); err != nil {
			return fmt.Errorf("write the figures of %s: %w", month, err)
		}
		index.Gen[month]++
		if !slices.Contains(index.Months, month) {
			index.Months = append(index.Months, month)
		}
	}
	slices.Sort(index.Months)
	return trips.PutLocal(ctx, cacheIndexID, index)
}

// EachCached calls each with every trip's cached figures, month by month, reading only the cache:
// the fast path of reports. Refresh must have run with the inputs in force.
func EachCached(ctx context.Context, trips *vault.DB, each func(id string, c Cached) error) error {
	return (&Memo{}).Each(ctx, trips, "", "", each)
}

// Memo keeps the cache's month documents decoded in memory between reads, for a long-running
// process (the web app): a month is read again only when its document was rewritten, by this
// process or another. It is safe for concurrent use.
type Memo struct {
	mu     sync.Mutex
	months map[string]memoMonth
}

type memoMonth struct {
	gen   int
	ids   []string // sorted
	trips []Cached // of ids
}

// UnmarshalJSON decodes a month document straight into the memo's sorted slices.
func (mm *memoMonth) UnmarshalJSON(raw []byte) error {
	var err error
	mm.ids, mm.trips, err = decodeMonth(raw)
	return err
}

// Each calls each with the cached figures of the trips of the months from and to ("" for no
// bound), month by month, trips in id order.
func (memo *Memo) Each(ctx context.Context, trips *vault.DB, from, to string, each func(id string, c Cached) error) error {
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil {
		return fmt.Errorf("the figures cache is missing (open the app once to build it): %w", err)
	}
	for _, month := range index.Months {
		if from != "" && month < from || to != "" && month > to {
			continue
		}
		mm, err := memo.month(ctx, trips, month, index.Gen[month])
		if err != nil {
			return err
		}
		for i, id := range mm.ids {
			if err := each(id, mm.trips[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (memo *Memo) month(ctx context.Context, trips *vault.DB, month string, gen int) (memoMonth, error) {
	memo.mu.Lock()
	mm, ok := memo.months[month]
	memo.mu.Unlock()
	if ok && mm.gen == gen && gen != 0 {
		return mm, nil
	}
	mm = memoMonth{}
	if err := trips.GetLocal(ctx, cacheMonthDoc+month, &mm); err != nil {
		return mm, err
	}
	mm.gen = gen
	memo.mu.Lock()
	if memo.months == nil {
		memo.months = map[string]memoMonth{}
	}
	memo.months[month] = mm
	memo.mu.Unlock()
	return mm, nil
}
