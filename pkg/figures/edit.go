package figures

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Edit is a correction the person makes to a trip in the app. Nil fields are left as they are.
type Edit struct {
	Purpose   *trip.Purpose
	Title     *string
	Recurring *bool
	// Mode sets (or, with "", clears) the mode of the whole trip.
	Mode *trip.Mode
	// SectionModes sets (or, with "", clears) the mode of sections, by index.
	SectionModes map[int]trip.Mode
}

// Validate checks the edit's values.
func (e Edit) Validate() error {
	if e.Purpose != nil && *e.Purpose != "" && !e.Purpose.Valid() {
		return fmt.Errorf("unknown purpose %q", *e.Purpose)
	}
	if e.Mode != nil && *e.Mode != "" && !e.Mode.Valid() {
		return fmt.Errorf("unknown mode %q", *e.Mode)
	}
	for i, m := range e.SectionModes {
		if i < 0 {
			return fmt.Errorf("section %d does not exist", i)
		}
		if m != "" && !m.Valid() {
			return fmt.Errorf("section %d: unknown mode %q", i, m)
		}
	}
	if e.Title != nil && len(*e.Title) > 200 {
		return fmt.Errorf("the title is longer than 200 characters")
	}
	return nil
}

// apply writes the edit into the trip's corrections.
func (e Edit) apply(d *trip.Doc) error {
	m, err := d.ManualEdits()
	if err != nil {
		return err
	}
	if e.Purpose != nil {
		m.Purpose, m.PurposeFrom, m.PurposeSource = *e.Purpose, "user", ""
		if *e.Purpose == "" {
			m.PurposeFrom = ""
		}
	}
	if e.Title != nil {
		m.Title = *e.Title
	}
	if e.Recurring != nil {
		m.Recurring = *e.Recurring
	}
	if e.Mode != nil {
		m.Mode = *e.Mode
	}
	sections, err := d.Sections()
	if err != nil {
		return err
	}
	for i, mode := range e.SectionModes {
		if i >= len(sections) {
			return fmt.Errorf("trip %s has %d sections, not %d", d.ID, len(sections), i+1)
		}
		if m.SectionModes == nil {
			m.SectionModes = map[string]trip.Mode{}
		}
		if mode == "" {
			delete(m.SectionModes, strconv.Itoa(i))
		} else {
			m.SectionModes[strconv.Itoa(i)] = mode
		}
	}
	return d.SetManual(m)
}

// propagates says which purpose a trip's corrections give to similar trips ("" for none): a
// recurring trip's purpose that the person set.
func propagates(m trip.Manual) trip.Purpose {
	if !m.Recurring || m.PurposeFrom != "user" {
		return ""
	}
	return m.Purpose
}

// Preview returns the trips whose purpose Apply(id, e) would change: what the person confirms
// before a recurring trip's purpose reaches them. It changes nothing.
func Preview(ctx context.Context, trips *vault.DB, id string, e Edit) ([]string, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var d trip.Doc
	if _, err := trips.Get(ctx, id, &d); err != nil {
		return nil, fmt.Errorf("trip %q: %w", id, err)
	}
	d.ID = id
	if err := e.apply(&d); err != nil {
		return nil, err
	}
	m, err := d.ManualEdits()
	if err != nil {
		return nil, err
	}
	purpose := propagates(m)
	if purpose == "" {
		return nil, nil
	}
	return similar(ctx, trips, &d, purpose)
}

// Apply saves the edit on the trip and recomputes its figures at once. When the trip is recurring
// and has a purpose the person set, that purpose goes to every similar trip (both ends within
// 200 m, either direction) whose purpose neither the person nor their phone gave (see Preview);
// Apply returns their ids. When the trip stops being recurring, or loses the purpose the person
// set, the purposes it gave are taken back (see Undo).
func Apply(ctx context.Context, trips *vault.DB, id string, e Edit) (propagated []string, err error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var source *trip.Doc
	var before trip.Purpose
	err = Save(ctx, trips, id, func(d *trip.Doc) error {
		m, err := d.ManualEdits()
		if err != nil {
			return err
		}
		before = propagates(m)
		if err := e.apply(d); err != nil {
			return err
		}
		source = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	m, err := source.ManualEdits()
	if err != nil {
		return nil, err
	}
	purpose := propagates(m)
	if purpose == "" {
		if before != "" {
			_, err = Undo(ctx, trips, id)
		}
		return nil, err
	}
	ids, err := similar(ctx, trips, source, purpose)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, cid := range ids {
		err := Save(ctx, trips, cid, func(d *trip.Doc) error {
			m, err := d.ManualEdits()
			if err != nil {
				return err
			}
			if !mayPropagate(m, d.Labels, source.ID) {
				return nil // set meanwhile
			}
			m.Purpose, m.PurposeFrom, m.PurposeSource = purpose, "recurring", source.ID
			return d.SetManual(m)
		})
		if err != nil {
			return changed, err
		}
		changed = append(changed, cid)
	}
	return changed, nil
}

// mayPropagate says whether a recurring trip (source) may give its purpose to a trip: not when
// the person set the trip's purpose, nor when their phone did, nor when another recurring trip
// gave it one.
func mayPropagate(m trip.Manual, labels trip.Labels, source string) bool {
	switch {
	case m.PurposeFrom == "user":
		return false
	case m.PurposeFrom == "recurring" && m.PurposeSource != source:
		return false
	case labels.Purpose != nil:
		if p, _ := co2.PurposeOfLabel(labels.Purpose.Value); p != trip.UnknownPurpose {
			return false
		}
	}
	return true
}

// similar returns the trips similar to source that purpose would change. It finds them by their
// ends in the figures cache (Refresh must have run), then reads their corrections and labels as
// they are now.
func similar(ctx context.Context, trips *vault.DB, source *trip.Doc, purpose trip.Purpose) ([]string, error) {
	route, err := source.Route()
	if err != nil || !route.HasEnds {
		return nil, err
	}
	var cands []places.Candidate
	err = eachEntry(ctx, trips, func(id string, e entry) error {
		if id == source.ID {
			return nil
		}
		f, err := e.decodeFacts()
		if err != nil {
			return err
		}
		if f.HasEnds {
			cands = append(cands, places.Candidate{ID: id, Start: f.Start, End: f.End})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	near := places.Propagate(places.Ends{Start: route.Start, End: route.End, StartTime: time.Unix(int64(source.Server.StartTS), 0)}, cands)
	type current struct {
		ID     string      `json:"_id"`
		Manual trip.Manual `json:"manual"`
		Labels trip.Labels `json:"labels"`
	}
	var out []string
	for start := 0; start < len(near); start += batchSize {
		docs, err := vault.GetMany[current](ctx, trips, near[start:min(start+batchSize, len(near))])
		if err != nil {
			return nil, err
		}
		for _, c := range docs {
			if mayPropagate(c.Manual, c.Labels, source.ID) && c.Manual.Purpose != purpose {
				out = append(out, c.ID)
			}
		}
	}
	return out, nil
}

// Propagated returns the trips whose purpose was copied from the recurring trip source.
func Propagated(ctx context.Context, trips *vault.DB, source string) ([]string, error) {
	q := AllTrips()
	q.Fields = []string{"_id", "manual"}
	var ids []string
	err := trips.Find(ctx, q, func(raw json.RawMessage) error {
		var c struct {
			ID     string      `json:"_id"`
			Manual trip.Manual `json:"manual"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		if c.Manual.PurposeFrom == "recurring" && c.Manual.PurposeSource == source {
			ids = append(ids, c.ID)
		}
		return nil
	})
	return ids, err
}

// Undo takes back the purposes the recurring trip source gave to similar trips (their purpose is
// again the phone's, or the one derived from home and work), and returns those trips.
func Undo(ctx context.Context, trips *vault.DB, source string) ([]string, error) {
	ids, err := Propagated(ctx, trips, source)
	if err != nil {
		return nil, err
	}
	var undone []string
	for _, id := range ids {
		err := Save(ctx, trips, id, func(d *trip.Doc) error {
			m, err := d.ManualEdits()
			if err != nil {
				return err
			}
			if m.PurposeFrom != "recurring" || m.PurposeSource != source {
				return nil // changed meanwhile
			}
			m.Purpose, m.PurposeFrom, m.PurposeSource = "", "", ""
			return d.SetManual(m)
		})
		if err != nil {
			return undone, err
		}
		undone = append(undone, id)
	}
	return undone, nil
}

// SuggestPlaces suggests the person's home and work from their trips: the most frequent
// night-time stay, and the most frequent weekday daytime stay away from home.
func SuggestPlaces(ctx context.Context, trips *vault.DB) (home, work *places.Suggestion, err error) {
	var ends []places.Ends
	err = eachEntry(ctx, trips, func(id string, e entry) error {
		if e.NotATrip || len(e.Sections) == 0 {
			return nil
		}
		start, err1 := time.Parse(time.RFC3339Nano, e.LocalStart)
		end, err2 := time.Parse(time.RFC3339Nano, e.LocalEnd)
		if err1 != nil || err2 != nil {
			return nil // a trip without local times says nothing about stays
		}
		f, err := e.decodeFacts()
		if err != nil {
			return err
		}
		var a, b trip.Point
		if f.HasEnds {
			a, b = f.Start, f.End
		}
		ends = append(ends, places.Ends{Start: a, End: b, StartTime: start, EndTime: end})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	stops := places.Stops(ends)
	home, _ = places.SuggestHome(stops)
	var homePlace *places.Place
	if home != nil {
		homePlace = &home.Place
	}
	work, _ = places.SuggestWork(stops, homePlace)
	return home, work, nil
}
