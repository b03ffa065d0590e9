package collector

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// GroupAll is the group of every participant.
const GroupAll = "all"

// QuantileMethod names how medians and quartiles are computed: for n sorted values x[0..n-1]
// and p in {0.25, 0.5, 0.75}, h = (n-1)·p and Q(p) = x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]) —
// linear interpolation between order statistics, R's type 7, numpy's and spreadsheets' default.
const QuantileMethod = "linear interpolation between order statistics (R type 7, numpy 'linear'): h = (n-1)p, Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h])"

// SuppressedReason is what the answer says of every group it leaves out.
const SuppressedReason = "fewer than k participants, or would reveal a group of fewer than k"

// Query selects aggregates. Empty fields select everything.
type Query struct {
	// Measures to aggregate, each requested by the study's current descriptor: all of them when
	// empty.
	Measures []study.MeasureID
	// Periods to aggregate: each a month or a year; a year also selects its months for monthly
	// measures. When empty: every period of the study that has ended at the time of the query,
	// and every period with stored contributions.
	Periods []study.Period
	// Groups: GroupAll, profile field names of the study (a group per allowed value), or
	// "field=value" for one value's group (GroupAll when empty).
	Groups []string
}

// Aggregate is the statistics of one measure, period, group and category.
type Aggregate struct {
	Measure study.MeasureID `json:"measure"`
	Unit    study.Unit      `json:"unit"`
	Period  study.Period    `json:"period"`
	// Group is GroupAll or a profile field; GroupValue is then one of its values.
	Group      string `json:"group"`
	GroupValue string `json:"group_value,omitempty"`
	// Category is the mode or purpose of a measure per category, "" for the others.
	Category string `json:"category,omitempty"`
	// Count is the number of distinct pseudonyms, at least k.
	Count  int     `json:"count"`
	Sum    float64 `json:"sum"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Q1     float64 `json:"q1"`
	Q3     float64 `json:"q3"`
}

// Suppressed is a group left out of an answer. It never says how many participants it has.
type Suppressed struct {
	Measure    study.MeasureID `json:"measure"`
	Period     study.Period    `json:"period"`
	Group      string          `json:"group"`
	GroupValue string          `json:"group_value,omitempty"`
	Reason     string          `json:"reason"`
}

// Aggregates is the answer to a query.
type Aggregates struct {
	StudyID      string `json:"study_id"`
	StudyVersion int    `json:"study_version"`
	// K is the study's current k: the least size of a published group, which needs more when
	// its contributions were sent under a version with a higher k.
	K              int          `json:"k"`
	QuantileMethod string       `json:"quantile_method"`
	Aggregates     []Aggregate  `json:"aggregates"`
	Suppressed     []Suppressed `json:"suppressed"`
}

// Aggregates computes the statistics of a study: count, sum, mean, median and quartiles
// ([QuantileMethod]) per measure, period, group and category, for groups of at least k distinct
// pseudonyms only, where k is the study's current k or, when higher, the highest k of the
// descriptor versions the group's contributions were sent under: lowering k in a new version
// publishes nothing that was sent under a higher one.
//
// A group below its k is listed in Suppressed without its size. Groups by a profile field are
// suppressed further when the participants left out of the published groups (the smaller
// groups, and those who did not give the field) would be fewer than k but more than none: the
// "all" group minus the published groups must not reveal a small group. Each period is read and
// computed on its own, so memory grows with the participants of one period, not the whole study.
func (s *Store) Aggregates(ctx context.Context, studyID string, q Query, now time.Time) (*Aggregates, error) {
	d, err := s.Study(ctx, studyID)
	if err != nil {
		return nil, err
	}
	if err := checkQuery(d, &q); err != nil {
		return nil, err
	}
	out := &Aggregates{StudyID: d.ID, StudyVersion: d.Version, K: d.K, QuantileMethod: QuantileMethod,
		Aggregates: []Aggregate{}, Suppressed: []Suppressed{}}
	for _, mid := range q.Measures {
		m, _ := study.LookupMeasure(mid)
		byPeriod := map[study.Period]*periodResult{}
		var cur study.Period
		var entries []row
		flush := func() {
			if len(entries) > 0 {
				byPeriod[cur] = aggregatePeriod(d, m, cur, entries, q.Groups)
			}
			entries = entries[:0]
		}
		err := s.scanMeasure(ctx, d.ID, mid, func(r row) error {
			if r.period != cur {
				flush()
				cur = r.period
			}
			if selected(q.Periods, r.period) {
				entries = append(entries, r)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("aggregates of %s: %w", d.ID, err)
		}
		flush()
		for _, p := range candidatePeriods(d, m, q.Periods, byPeriod, now) {
			res, ok := byPeriod[p]
			if !ok {
				res = aggregatePeriod(d, m, p, nil, q.Groups)
			}
			out.Aggregates = append(out.Aggregates, res.aggregates...)
			out.Suppressed = append(out.Suppressed, res.suppressed...)
		}
	}
	return out, nil
}

// QueryError is a query the collector cannot answer: an unknown measure, group or period.
type QueryError struct{ Msg string }

// Error returns the message.
func (e *QueryError) Error() string { return e.Msg }

// checkQuery checks a query against the study and fills its defaults.
func checkQuery(d *study.Descriptor, q *Query) error {
	if len(q.Measures) == 0 {
		q.Measures = slices.Clone(d.Measures)
	}
	for _, m := range q.Measures {
		if _, ok := study.LookupMeasure(m); !ok {
			return &QueryError{Msg: fmt.Sprintf("measure %q is not in the catalogue", m)}
		}
		if !d.Requests(m) {
			return &QueryError{Msg: fmt.Sprintf("study %s does not request measure %s", d.ID, m)}
		}
	}
	// Catalogue order, each once.
	slices.SortStableFunc(q.Measures, func(a, b study.MeasureID) int {
		return slices.Index(study.MeasureIDs(), a) - slices.Index(study.MeasureIDs(), b)
	})
	q.Measures = slices.Compact(q.Measures)
	for _, p := range q.Periods {
		if !p.Valid() || p.Year == 0 {
			return &QueryError{Msg: "invalid period in the query"}
		}
	}
	if len(q.Groups) == 0 {
		q.Groups = []string{GroupAll}
	}
	for _, g := range q.Groups {
		if g == GroupAll {
			continue
		}
		field, value, one := strings.Cut(g, "=")
		pf, ok := d.ProfileField(field)
		switch {
		case !ok:
			return &QueryError{Msg: fmt.Sprintf("group %q: neither %q nor a profile field of study %s, nor field=value", g, GroupAll, d.ID)}
		case one && !slices.Contains(pf.Values, value):
			return &QueryError{Msg: fmt.Sprintf("group %q: %q is not a value of %s (%s; URL-encode \"+\" as %%2B)", g, value, field, strings.Join(pf.Values, ", "))}
		}
	}
	// "all" first, then the study's order of profile fields and of their values, each once.
	order := func(g string) int {
		if g == GroupAll {
			return -1
		}
		field, value, _ := strings.Cut(g, "=")
		i := slices.IndexFunc(d.ProfileFields, func(p study.ProfileField) bool { return p.Name == field })
		return i*(study.MaxProfileValues+1) + 1 + slices.Index(d.ProfileFields[i].Values, value)
	}
	slices.SortStableFunc(q.Groups, func(a, b string) int { return order(a) - order(b) })
	q.Groups = slices.Compact(q.Groups)
	// A field's groups already hold each of its values' group.
	q.Groups = slices.DeleteFunc(q.Groups, func(g string) bool {
		field, _, one := strings.Cut(g, "=")
		return one && slices.Contains(q.Groups, field)
	})
	return nil
}

// selected reports whether a period passes the query's filter: equal to one of them, or a month
// of one of its years.
func selected(filter []study.Period, p study.Period) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if f == p || f.Month == 0 && f.Year == p.Year {
			return true
		}
	}
	return false
}

// candidatePeriods lists, in order, the periods answered for a measure: the study's periods of
// the measure's granularity that have ended at now, and those with contributions, that pass the
// filter. Listing ended periods without contributions (as suppressed) keeps an answer from
// telling whether anybody contributed.
func candidatePeriods(d *study.Descriptor, m study.Measure, filter []study.Period, have map[study.Period]*periodResult, now time.Time) []study.Period {
	set := map[study.Period]bool{}
	for _, p := range d.Period.Periods(m.Granularity) {
		if !now.Before(p.End().Add(-study.CompletionSlack)) && selected(filter, p) {
			set[p] = true
		}
	}
	for p := range have {
		set[p] = true
	}
	out := make([]study.Period, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, study.Period.Compare)
	return out
}

// periodResult is what one measure and period give.
type periodResult struct {
	aggregates []Aggregate
	suppressed []Suppressed
}

// aggregatePeriod computes one measure and period's groups from its contributions.
func aggregatePeriod(d *study.Descriptor, m study.Measure, p study.Period, entries []row, groups []string) *periodResult {
	res := &periodResult{}
	all := distinct(entries)
	allPublished := len(all) >= minSize(d.K, all)
	for _, g := range groups {
		if g == GroupAll {
			if allPublished {
				res.aggregates = append(res.aggregates, stats(m, p, GroupAll, "", all)...)
			} else {
				res.suppressed = append(res.suppressed, Suppressed{Measure: m.ID, Period: p, Group: GroupAll, Reason: SuppressedReason})
			}
			continue
		}
		field, only, one := strings.Cut(g, "=")
		pf, _ := d.ProfileField(field)
		members := make([][]row, len(pf.Values))
		for _, e := range all {
			if i := slices.Index(pf.Values, e.profile[field]); i >= 0 {
				members[i] = append(members[i], e)
			}
		}
		published := publishable(all, d.K, members)
		for i, v := range pf.Values {
			switch {
			case one && v != only:
			case published[i]:
				res.aggregates = append(res.aggregates, stats(m, p, field, v, members[i])...)
			default:
				res.suppressed = append(res.suppressed, Suppressed{Measure: m.ID, Period: p, Group: field, GroupValue: v, Reason: SuppressedReason})
			}
		}
	}
	return res
}

// minSize returns the size a set of contributions needs to be published: the study's current k,
// or the highest k under which one of them was sent, when higher. A participant who consented to
// groups of at least 5 is never published in a group of 4, whatever k a later version sets.
func minSize(k int, members []row) int {
	for _, e := range members {
		k = max(k, e.k)
	}
	return k
}

// publishable decides which groups of a profile field are published, given every participant
// (the "all" group), the study's current k and the field's groups. Each set a reader can isolate
// from one answer — a published group, or the participants outside the published groups ("all"
// minus their sum, known whenever "all" is published) — must be empty or reach its minSize. So a
// group is published when it reaches its minSize (primary suppression), and while the
// participants outside the published groups are too few for their own minSize, the smallest
// published group is withdrawn too (secondary suppression). Any union of such sets then reaches
// its minSize as well, the largest of its parts' (see docs/collector-api.md).
func publishable(all []row, k int, members [][]row) []bool {
	pub := make([]bool, len(members))
	if len(all) < minSize(k, all) {
		return pub // every group is smaller than "all"
	}
	inGroup := map[string]int{} // pseudonym → index of its published group
	for i, m := range members {
		if len(m) >= minSize(k, m) {
			pub[i] = true
			for _, e := range m {
				inGroup[e.pseudonym] = i
			}
		}
	}
	for {
		var rest []row
		for _, e := range all {
			if _, ok := inGroup[e.pseudonym]; !ok {
				rest = append(rest, e)
			}
		}
		if len(rest) == 0 || len(rest) >= minSize(k, rest) {
			return pub
		}
		smallest := -1
		for i, m := range members {
			if pub[i] && (smallest < 0 || len(m) < len(members[smallest])) {
				smallest = i
			}
		}
		if smallest < 0 {
			return pub
		}
		pub[smallest] = false
		for _, e := range members[smallest] {
			delete(inGroup, e.pseudonym)
		}
	}
}

// distinct keeps one contribution per pseudonym (the store's key already ensures it: this makes
// the count of distinct pseudonyms hold whatever the store).
func distinct(entries []row) []row {
	seen := make(map[string]bool, len(entries))
	out := make([]row, 0, len(entries))
	for _, e := range entries {
		if !seen[e.pseudonym] {
			seen[e.pseudonym] = true
			out = append(out, e)
		}
	}
	return out
}

// stats computes a group's statistics, one Aggregate per category of the measure.
func stats(m study.Measure, p study.Period, group, value string, members []row) []Aggregate {
	cats := m.CategoryList()
	if cats == nil {
		cats = []string{""}
	}
	out := make([]Aggregate, 0, len(cats))
	xs := make([]float64, len(members))
	for _, c := range cats {
		for i, e := range members {
			xs[i] = e.cells[c] // a category left out of a contribution is 0
		}
		s := Summarize(xs)
		out = append(out, Aggregate{Measure: m.ID, Unit: m.Unit, Period: p, Group: group, GroupValue: value, Category: c,
			Count: s.Count, Sum: s.Sum, Mean: s.Mean, Median: s.Median, Q1: s.Q1, Q3: s.Q3})
	}
	return out
}

// Summary is the statistics of a list of numbers.
type Summary struct {
	Count                     int
	Sum, Mean, Median, Q1, Q3 float64
}

// Summarize computes count, sum, mean, median and quartiles ([QuantileMethod]) of xs, which it
// sorts. An empty list gives zeros.
func Summarize(xs []float64) Summary {
	n := len(xs)
	if n == 0 {
		return Summary{}
	}
	sort.Float64s(xs)
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return Summary{Count: n, Sum: sum, Mean: sum / float64(n),
		Median: Quantile(xs, 0.5), Q1: Quantile(xs, 0.25), Q3: Quantile(xs, 0.75)}
}

// Quantile returns the p-quantile of sorted numbers by [QuantileMethod] (NaN when empty).
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
