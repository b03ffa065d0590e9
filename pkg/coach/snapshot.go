package coach

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// A snapshot is the figures cache decoded in memory, as reports and trip lists read it: a web app
// serving many requests between two changes of the trips reads no store at all. It is immutable
// once built (its newest-first order is built once, on first use).
type snapshot struct {
	// seq is the trips database's update sequence up to which the figures cache, and so the
	// snapshot, is known to be current; "" when it is not known (the next read refreshes).
	seq string
	// inputs are what the figures were computed with: new settings make the snapshot stale
	// although no trip changed (the figures live in the cache, not in the trips).
	inputs trip.Stamp
	// months are the months with trips, in order ("unknown" last, as the cache has it).
	months []string
	// byMonth are each month's trips in id order: the order of figures.Memo.Each.
	byMonth map[string][]cachedTrip

	newestOnce sync.Once
	newest     []*cachedTrip

	// reports are the reports computed from this snapshot, by query and factor set: the
	// dashboard's and the analyses' asked again and again between two changes.
	reportsMu sync.Mutex
	reports   map[string]*indicators.Report
}

// maxReports bounds a snapshot's reports: past it they are forgotten, and computed again.
const maxReports = 64

// report returns the report of q with set, computed once per snapshot.
func (s *snapshot) report(q indicators.Query, set *co2.FactorSet) *indicators.Report {
	key := strings.Join([]string{q.From, q.To, set.ID, set.Version, strings.Join(q.Devices, "\x00")}, "\x01")
	s.reportsMu.Lock()
	r, ok := s.reports[key]
	s.reportsMu.Unlock()
	if ok {
		return r
	}
	acc := indicators.New(q, set)
	s.each(q.From, q.To, func(t *cachedTrip) {
		acc.Add(indicators.Trip{Device: t.Device, Aggregation: t.Aggregation()})
	})
	r = acc.Report()
	s.reportsMu.Lock()
	defer s.reportsMu.Unlock()
	if s.reports == nil || len(s.reports) >= maxReports {
		s.reports = map[string]*indicators.Report{}
	}
	s.reports[key] = r
	return r
}

// cachedTrip is a trip of a snapshot.
type cachedTrip struct {
	id, month string
	figures.Cached
}

// hasMode says whether one of the trip's sections is in mode m.
func (t *cachedTrip) hasMode(m trip.Mode) bool {
	for _, s := range t.Sections {
		if s.Mode == m {
			return true
		}
	}
	return false
}

// each calls f with the trips of the months from to to ("" for no bound), month by month, in id
// order within a month: the order of figures.Memo.Each, so that reports add up the same way.
func (s *snapshot) each(from, to string, f func(*cachedTrip)) {
	for _, month := range s.months {
		if from != "" && month < from || to != "" && month > to {
			continue
		}
		trips := s.byMonth[month]
		for i := range trips {
			f(&trips[i])
		}
	}
}

// newestIn returns the trips of the months from to to ("" for no bound), newest first (ties by
// id).
func (s *snapshot) newestIn(from, to string) []*cachedTrip {
	if from == "" && to == "" {
		return s.newestFirst()
	}
	var trips []*cachedTrip
	s.each(from, to, func(t *cachedTrip) { trips = append(trips, t) })
	sortNewestFirst(trips)
	return trips
}

func sortNewestFirst(trips []*cachedTrip) {
	slices.SortStableFunc(trips, func(x, y *cachedTrip) int {
		switch {
		case x.StartTS > y.StartTS:
			return -1
		case x.StartTS < y.StartTS:
			return 1
		}
		return strings.Compare(x.id, y.id)
	})
}

// newestFirst returns every trip, newest first (ties by id).
func (s *snapshot) newestFirst() []*cachedTrip {
	s.newestOnce.Do(func() {
		n := 0
		for _, trips := range s.byMonth {
			n += len(trips)
		}
		s.newest = make([]*cachedTrip, 0, n)
		s.each("", "", func(t *cachedTrip) { s.newest = append(s.newest, t) })
		sortNewestFirst(s.newest)
	})
	return s.newest
}

// updateSeq returns the trips database's current update sequence: a cheap question, whose answer
// changes with every write to a trip (and never with the figures cache's _local documents).
func (c *Coach) updateSeq(ctx context.Context) (string, error) {
	_, seq, err := c.trips.Changes(ctx, vault.ChangesQuery{Since: "now"})
	return seq, err
}

// seqGate shares the update sequence questions of concurrent requests: a request waits for the
// answer of a question asked after it arrived (never one already asked, which could miss the
// write it follows, an edit say), and one question answers every request waiting for it. With
// many requests at once, the store is asked about twice per round trip rather than once per
// request.
type seqGate struct {
	// read asks the store.
	read func() (string, error)

	mu      sync.Mutex
	running bool
	// next is the question the requests arriving now wait for: asked when the running one
	// ends.
	next *seqAnswer
}

// seqAnswer is one question's answer, set before done is closed.
type seqAnswer struct {
	done chan struct{}
	seq  string
	err  error
}

// seq returns the update sequence as it was after the call began.
func (g *seqGate) seq(ctx context.Context) (string, error) {
	g.mu.Lock()
	if g.next == nil {
		g.next = &seqAnswer{done: make(chan struct{})}
	}
	a := g.next
	if !g.running {
		g.ask()
	}
	g.mu.Unlock()
	select {
	case <-a.done:
		return a.seq, a.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ask asks the question of the requests waiting for next. g.mu is held.
func (g *seqGate) ask() {
	a := g.next
	g.next, g.running = nil, true
	go func() {
		a.seq, a.err = g.read()
		close(a.done)
		g.mu.Lock()
		defer g.mu.Unlock()
		g.running = false
		if g.next != nil {
			g.ask()
		}
	}()
}

// view returns the figures as they are now: the snapshot taken after the last refresh when no
// trip changed since (a question to the store, nothing read), otherwise a new one after
// bringing the figures up to date.
func (c *Coach) view(ctx context.Context) (*snapshot, error) {
	seq, err := c.seqs.seq(ctx)
	if err != nil {
		return nil, err
	}
	if s := c.currentSnapshot(seq); s != nil {
		return s, nil
	}
	// One request refreshes and takes the snapshot; the others arriving meanwhile wait for it
	// rather than do the same work again.
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	before, err := c.updateSeq(ctx)
	if err != nil {
		return nil, err
	}
	if s := c.currentSnapshot(before); s != nil {
		return s, nil
	}
	inputs := c.Inputs().Stamp()
	res, err := c.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	after, err := c.updateSeq(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{byMonth: map[string][]cachedTrip{}, inputs: inputs}
	err = c.memo.Each(ctx, c.trips, "", "", func(id string, ca figures.Cached) error {
		month := "unknown" // as the cache files a trip without a start
		if len(ca.LocalStart) >= 7 {
			month = ca.LocalStart[:7]
		}
		if _, ok := s.byMonth[month]; !ok {
			s.months = append(s.months, month)
		}
		s.byMonth[month] = append(s.byMonth[month], cachedTrip{id: id, month: month, Cached: ca})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(s.months)
	// The snapshot is current at after only when no trip changed during the refresh, none was
	// left to check again, and the refresh was not skipped for a background recompute; otherwise
	// the next read refreshes again.
	if before == after && len(res.Errors) == 0 && !c.Recomputing().Running {
		s.seq = after
	}
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
	return s, nil
}

// currentSnapshot returns the last snapshot when it is current at seq, nil otherwise.
func (c *Coach) currentSnapshot(seq string) *snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s := c.snap; s != nil && s.seq != "" && s.seq == seq && s.inputs == c.inputs.Stamp() {
		return s
	}
	return nil
}
