package figures

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

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

// Apply saves the edit on the trip and recomputes its figures at once. When the trip is recurring
// and has a purpose the person set, that purpose goes to every similar trip (both ends within
// 200 m, either direction) whose purpose the person did not set themselves; Apply returns their
// ids.
func Apply(ctx context.Context, trips *vault.DB, in Inputs, id string, e Edit) (propagated []string, err error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var source *trip.Doc
	err = Save(ctx, trips, id, in, func(d *trip.Doc) error {
		m, err := d.ManualEdits()
		if err != nil {
			return err
		}
		if e.Purpose != nil {
			m.Purpose, m.PurposeFrom = *e.Purpose, "user"
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
				return fmt.Errorf("trip %s has %d sections, not %d", id, len(sections), i+1)
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
		if err := d.SetManual(m); err != nil {
			return err
		}
		source = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	m, _ := source.ManualEdits()
	if !m.Recurring || m.Purpose == "" || m.PurposeFrom != "user" {
		return nil, nil
	}
	return propagate(ctx, trips, in, source, m.Purpose)
}

// propagate gives purpose to the trips similar to source.
func propagate(ctx context.Context, trips *vault.DB, in Inputs, source *trip.Doc, purpose trip.Purpose) ([]string, error) {
	route, err := source.Route()
	if err != nil || !route.HasEnds {
		return nil, err
	}
	type candidate struct {
		ID          string `json:"_id"`
		Aggregation struct {
			Coordinates struct {
				StartPoint trip.Point `json:"startPoint"`
				EndPoint   trip.Point `json:"endPoint"`
			} `json:"coordinates"`
		} `json:"aggregation"`
		Manual trip.Manual `json:"manual"`
	}
	var cands []places.Candidate
	purposeFrom := map[string]string{}
	q := AllTrips()
	q.Fields = []string{"_id", "aggregation.coordinates", "manual"}
	err = trips.Find(ctx, q, func(raw json.RawMessage) error {
		var c candidate
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		if c.ID == source.ID || c.Manual.PurposeFrom == "user" {
			return nil // the person's own choice stays
		}
		purposeFrom[c.ID] = string(c.Manual.Purpose)
		cands = append(cands, places.Candidate{ID: c.ID, Start: c.Aggregation.Coordinates.StartPoint, End: c.Aggregation.Coordinates.EndPoint})
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := places.Propagate(places.Ends{Start: route.Start, End: route.End, StartTime: time.Unix(int64(source.Server.StartTS), 0)}, cands)
	var changed []string
	for _, id := range ids {
		if purposeFrom[id] == string(purpose) {
			continue
		}
		err := Save(ctx, trips, id, in, func(d *trip.Doc) error {
			m, err := d.ManualEdits()
			if err != nil {
				return err
			}
			if m.PurposeFrom == "user" {
				return nil // set by the person meanwhile
			}
			m.Purpose, m.PurposeFrom = purpose, "recurring"
			return d.SetManual(m)
		})
		if err != nil {
			return changed, err
		}
		changed = append(changed, id)
	}
	return changed, nil
}

// SuggestPlaces suggests the person's home and work from their trips: the most frequent
// night-time stay, and the most frequent weekday daytime stay away from home.
func SuggestPlaces(ctx context.Context, trips *vault.DB) (home, work *places.Suggestion, err error) {
	var ends []places.Ends
	err = EachFigures(ctx, trips, func(f Figures) error {
		a := f.Aggregation
		if a.NotATrip || len(a.Sections) == 0 {
			return nil
		}
		start, err1 := time.Parse(time.RFC3339Nano, a.LocalStart)
		end, err2 := time.Parse(time.RFC3339Nano, a.Sections[len(a.Sections)-1].EndDate)
		if err1 != nil || err2 != nil {
			return nil // a trip without local times says nothing about stays
		}
		ends = append(ends, places.Ends{Start: a.Coordinates.StartPoint, End: a.Coordinates.EndPoint, StartTime: start, EndTime: end})
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
