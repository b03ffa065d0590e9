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

// The figures cache keeps, per calendar month, each trip's figures (the few numbers indicators
// read) and the facts they were computed from, in _local documents of the trips database
// ("figures-YYYY-MM" and "figures-facts-YYYY-MM", listed in "figures-index"; see cachecodec.go).
// A report then reads a few documents instead of
// every trip. It is derived data: Refresh keeps it in step with the trips through the changes
// feed, and computes the figures again from the facts whenever the inputs change; deleting it
// only costs reading every trip once.

// cacheVersion changes when the cache's layout does. 4: months in a binary form (cachecodec.go);
// 5: with each trip's facts.
const cacheVersion = 5

const (
	cacheIndexID  = "figures-index"
	cacheMonthDoc = "figures-"
	cacheFactsDoc = "figures-facts-"
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
	Trips map[string]entry `json:"trips"`
	// dirty is set when Trips changed since the month was read, figuresOnly when only their
	// figures did: only what changed is written.
	dirty, figuresOnly bool
}

// entry is what the cache holds of a trip: its figures, and the facts they were computed from.
type entry struct {
	Cached
	// figured is false when the month's figures document lacks the trip (it was cut short).
	figured bool
	entryFacts
}

// entryFacts is the facts part of an entry.
type entryFacts struct {
	// rev is the revision of the trip the facts were read from; inputs the key of the inputs the
	// figures were computed with (Inputs.key): the checkpoint's, for every entry of the cache.
	rev, inputs string
	// facts are nil when the month's facts document lacks the trip (it was cut short).
	facts *Facts
}

func newEntry(rev, inputs string, f Facts, a trip.Aggregation) entry {
	return entry{Cached: cachedOf(f.Device, a), figured: true, entryFacts: entryFacts{rev: rev, inputs: inputs, facts: &f}}
}

func (e entry) decodeFacts() (Facts, error) {
	if e.facts == nil {
		return Facts{}, errors.New("figures cache: a trip without its facts")
	}
	return *e.facts, nil
}

func monthOf(c Cached) string {
	if len(c.LocalStart) < 7 {
		return "unknown"
	}
	return c.LocalStart[:7]
}

func addEntry(months map[string]*cacheMonth, id string, e entry) {
	month := monthOf(e.Cached)
	m := months[month]
	if m == nil {
		m = &cacheMonth{Trips: map[string]entry{}}
		months[month] = m
	}
	m.Trips[id] = e
	m.dirty, m.figuresOnly = true, false
}

// loadMonths reads every month of the cache, figures and facts.
func loadMonths(ctx context.Context, trips *vault.DB, index cacheIndex) (map[string]*cacheMonth, error) {
	months := make(map[string]*cacheMonth, len(index.Months))
	for _, month := range index.Months {
		m, err := loadMonth(ctx, trips, month)
		if err != nil {
			return nil, err
		}
		months[month] = m
	}
	return months, nil
}

// loadMonth reads a month of the cache: its figures and facts documents, joined.
func loadMonth(ctx context.Context, trips *vault.DB, month string) (*cacheMonth, error) {
	m := &cacheMonth{Trips: map[string]entry{}}
	for _, id := range []string{cacheMonthDoc + month, cacheFactsDoc + month} {
		if err := trips.GetLocal(ctx, id, m); err != nil && !errors.Is(err, vault.ErrNotFound) {
			return nil, err
		}
	}
	return m, nil
}

// replaceCache writes months as the whole cache: the months it had and months lacks are emptied.
func replaceCache(ctx context.Context, trips *vault.DB, months map[string]*cacheMonth) error {
	var old cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &old); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	for _, month := range old.Months {
		if months[month] == nil {
			months[month] = &cacheMonth{Trips: map[string]entry{}} // emptied
		}
	}
	for _, m := range months {
		m.dirty = true
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

// writeMonths writes the months that changed (dirty) and the index listing every month.
func writeMonths(ctx context.Context, trips *vault.DB, months map[string]*cacheMonth) error {
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	current := index.Version == cacheVersion
	index.Version = cacheVersion
	if index.Gen == nil {
		index.Gen = map[string]int{}
	}
	dirty := false
	for month, m := range months {
		if !m.dirty {
			continue
		}
		dirty = true
		// The facts first: a month whose figures were written lacks no trip's facts.
		if !m.figuresOnly {
			if err := trips.PutLocal(ctx, cacheFactsDoc+month, factsDoc{m}); err != nil {
				return fmt.Errorf("write the facts of %s: %w", month, err)
			}
		}
		if err := trips.PutLocal(ctx, cacheMonthDoc+month, figuresDoc{m}); err != nil {
			return fmt.Errorf("write the figures of %s: %w", month, err)
		}
		index.Gen[month]++
		if !slices.Contains(index.Months, month) {
			index.Months = append(index.Months, month)
		}
	}
	if !dirty && current {
		return nil
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
	mm.ids, mm.trips, err = decodeFigures(raw)
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
