package devserver

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// user is the immutable index of one user's data; changes build a new one (copy on write).
type user struct {
	name  string // for logs: never the token
	uuid  string // e-mission user id, 32 hex digits
	trips []*tripRecord
	// byDate lists trips by local start date, in start order.
	byDate map[openpath.Date][]*tripRecord
	// entries are stored entries (labels, composite trips), in no particular order.
	entries []*entryRecord

	// gen and genUser back a generated user: trips and labels are rebuilt on demand.
	gen     *tripgen.Generator
	genUser int
	// composite: the generated trips are also served as analysis/composite_trip entries.
	composite bool

	// generation counts pipeline resets; after one, pipeline output ids are remapped.
	generation int
	resetAt    float64
}

// tripRecord is one timeline trip: what find_entries and getTrips need without parsing it again.
type tripRecord struct {
	id      string // current id (remapped after a reset)
	origID  string // id in the original data
	startTS float64
	endTS   float64
	writeTS float64
	date    openpath.Date
	loc     *time.Location
	raw     []byte // static data: the FeatureCollection as given
	props   []byte // static data: its properties object, a sub-slice of raw
	genDay  int    // generated data: the day and index of the trip in Generator.Day
	genIdx  int
}

// entryRecord is one stored entry.
type entryRecord struct {
	key      string
	id       string // current id (remapped after a reset)
	origID   string // id in the original data
	writeTS  float64
	startTS  float64 // NaN when the entry has no data.start_ts
	endTS    float64
	pipeline bool   // analysis/* output, rewritten by a pipeline reset; labels are user input
	raw      []byte // static data
	genDay   int    // generated labels: day, trip index and label index
	genTrip  int
	genLabel int
}

// newStaticUser indexes data.
func newStaticUser(name, uuid string, data *UserData) (*user, []string, error) {
	u := &user{name: name, uuid: uuid}
	var warnings []string
	seen := map[string]bool{}
	locs := map[string]*time.Location{}
	for i, raw := range data.Trips {
		rec, err := staticTrip(raw, locs)
		if err != nil {
			return nil, nil, fmt.Errorf("devserver: trip %d: %w", i, err)
		}
		if seen[rec.id] {
			warnings = append(warnings, fmt.Sprintf("trip %d: duplicate id %s skipped", i, rec.id))
			continue
		}
		seen[rec.id] = true
		u.trips = append(u.trips, rec)
	}
	for i, raw := range data.Labels {
		e, err := staticEntry(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("devserver: label entry %d: %w", i, err)
		}
		u.entries = append(u.entries, e)
	}
	for i, raw := range data.Composite {
		e, err := staticEntry(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("devserver: composite entry %d: %w", i, err)
		}
		u.entries = append(u.entries, e)
	}
	u.reindex()
	return u, warnings, nil
}

// staticTrip indexes one timeline trip.
func staticTrip(raw json.RawMessage, locs map[string]*time.Location) (*tripRecord, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("not valid JSON")
	}
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return nil, fmt.Errorf("not a JSON object")
	}
	props := root.Get("properties")
	if !props.IsObject() {
		return nil, fmt.Errorf("no properties object")
	}
	rec := &tripRecord{
		raw:     raw,
		props:   raw[props.Index : props.Index+len(props.Raw)],
		startTS: props.Get("start_ts").Float(),
		endTS:   props.Get("end_ts").Float(),
	}
	rec.id = idOf(root.Get("id"))
	if rec.id == "" {
		rec.id = derivedID(string(raw), rec.endTS)
	}
	rec.origID = rec.id
	if rec.startTS == 0 || rec.endTS == 0 {
		return nil, fmt.Errorf("%s: no properties.start_ts/end_ts", rec.id)
	}
	h := openpath.TripHeader{ID: rec.id, Span: openpath.Span{
		StartFmtTime: props.Get("start_fmt_time").String(),
		StartLocalDt: openpath.LocalDate{
			Year: int(props.Get("start_local_dt.year").Int()), Month: int(props.Get("start_local_dt.month").Int()),
			Day: int(props.Get("start_local_dt.day").Int()),
		},
	}}
	date, err := h.StartDate()
	if err != nil {
		return nil, err
	}
	rec.date = date
	tz := props.Get("start_local_dt.timezone").String()
	if loc, ok := locs[tz]; ok {
		rec.loc = loc
	} else {
		rec.loc = time.UTC
		if l, err := time.LoadLocation(tz); err == nil && tz != "" {
			rec.loc = l
		}
		locs[tz] = rec.loc
	}
	// Deterministic write time: the pipeline ran between 5 minutes and an hour after the trip.
	rec.writeTS = math.Round((rec.endTS+300+stableFraction(rec.id)*3300)*1e6) / 1e6
	return rec, nil
}

// staticEntry indexes one stored entry.
func staticEntry(raw json.RawMessage) (*entryRecord, error) {
	if !json.Valid(raw) {
		return nil, fmt.Errorf("not valid JSON")
	}
	root := gjson.ParseBytes(raw)
	e := &entryRecord{
		raw:     raw,
		key:     root.Get("metadata.key").String(),
		writeTS: root.Get("metadata.write_ts").Float(),
		startTS: floatOrNaN(root.Get("data.start_ts")),
		endTS:   floatOrNaN(root.Get("data.end_ts")),
	}
	if e.key == "" {
		return nil, fmt.Errorf("no metadata.key")
	}
	if !root.Get("metadata.write_ts").Exists() {
		return nil, fmt.Errorf("no metadata.write_ts")
	}
	e.id = idOf(root.Get("_id"))
	if e.id == "" {
		e.id = derivedID(string(raw), e.writeTS)
	}
	e.origID = e.id
	e.pipeline = strings.HasPrefix(e.key, "analysis/")
	return e, nil
}

// newGeneratedUser indexes a generated user: headers only, trips are rebuilt when served.
func newGeneratedUser(name string, gen *tripgen.Generator, idx int) *user {
	p := gen.Users()[idx]
	u := &user{name: name, uuid: p.UUID, gen: gen, genUser: idx}
	loc := gen.Location()
	for d := 0; d < gen.Config().Days; d++ {
		for i, t := range gen.Day(idx, d) {
			u.trips = append(u.trips, &tripRecord{
				id: t.ID, origID: t.ID, startTS: t.StartTS(), endTS: t.EndTS(), writeTS: t.ProcessedTS,
				date: openpath.DateOf(t.Start()), loc: loc, genDay: d, genIdx: i,
			})
			for j, l := range t.Labels {
				u.entries = append(u.entries, &entryRecord{
					key: l.Key, id: l.ID, origID: l.ID, writeTS: l.WriteTS, startTS: l.StartTS, endTS: l.EndTS,
					genDay: d, genTrip: i, genLabel: j,
				})
			}
		}
	}
	u.reindex()
	return u
}

// reindex sorts the trips and rebuilds byDate.
func (u *user) reindex() {
	slices.SortStableFunc(u.trips, func(a, b *tripRecord) int {
		return cmp.Or(cmp.Compare(a.startTS, b.startTS), strings.Compare(a.id, b.id))
	})
	u.byDate = make(map[openpath.Date][]*tripRecord)
	for _, t := range u.trips {
		u.byDate[t.date] = append(u.byDate[t.date], t)
	}
}

// clone copies u and its records, for a change.
func (u *user) clone() *user {
	c := *u
	c.trips = make([]*tripRecord, len(u.trips))
	for i, t := range u.trips {
		tc := *t
		c.trips[i] = &tc
	}
	c.entries = make([]*entryRecord, len(u.entries))
	for i, e := range u.entries {
		ec := *e
		c.entries[i] = &ec
	}
	c.reindex()
	return &c
}

// reset simulates a pipeline reset at ts: every trip and pipeline entry is processed again, gets
// new ids and new write times (ts, ts+0.05, ... in trip order); time spans are unchanged. Labels,
// which the user wrote, are kept.
func (u *user) reset(ts float64) *user {
	c := u.clone()
	c.generation++
	c.resetAt = ts
	type item struct {
		start float64
		set   func(id string, w float64)
		orig  string
	}
	var items []item
	for _, t := range c.trips {
		items = append(items, item{t.startTS, func(id string, w float64) { t.id, t.writeTS = id, w }, t.origID})
	}
	for _, e := range c.entries {
		if e.pipeline {
			start := e.startTS
			if math.IsNaN(start) {
				start = e.writeTS
			}
			items = append(items, item{start, func(id string, w float64) { e.id, e.writeTS = id, w }, e.origID})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.start, b.start) })
	for i, it := range items {
		it.set(c.remapID(it.orig), math.Round((ts+0.05*float64(i))*1e6)/1e6)
	}
	c.reindex()
	return c
}

// remapID is the id the current pipeline generation gives the object whose id was orig in the
// original data: deterministic, shaped like an ObjectId created at the last reset.
func (u *user) remapID(orig string) string {
	if u.generation == 0 {
		return orig
	}
	return derivedID(fmt.Sprintf("%s#%d", orig, u.generation), u.resetAt)
}

// derivedID returns 24 hex digits shaped like an ObjectId created at ts, derived from seed.
func derivedID(seed string, ts float64) string {
	sum := sha256.Sum256([]byte(seed))
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(ts))
	copy(b[4:], sum[:8])
	return hex.EncodeToString(b[:])
}

// stableFraction maps an id to a number in [0, 1), the same at every run.
func stableFraction(id string) float64 {
	sum := sha256.Sum256([]byte(id))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// idOf reads an id as {"$oid": hex} or a plain string.
func idOf(r gjson.Result) string {
	if r.IsObject() {
		if v := r.Get(`\$oid`); v.Exists() {
			return v.String()
		}
		return r.Get(`\$uuid`).String()
	}
	return r.String()
}

func floatOrNaN(r gjson.Result) float64 {
	if r.Type != gjson.Number {
		return math.NaN()
	}
	return r.Float()
}
