package trip

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Route is what a trip's series says about where the trip went: its sections, its ends and the
// names of its places. It is read from the series (kept as the server sent it) by [Doc.Route].
type Route struct {
	// Sections are the trip's sections, in order.
	Sections []Section
	// Start and End are where the trip started and ended; HasEnds is false when the series does
	// not say.
	Start, End Point
	HasEnds    bool
	// StartPlace and EndPlace are the display names of the start and end places, when the server
	// geocoded them.
	StartPlace, EndPlace string
}

// Section is one section of a trip as the server sensed it, read from the trip's series.
type Section struct {
	Index      int     // position among the trip's sections, from 0
	ID         string  // the section feature's id, when the server gives one
	SensedMode string  // e.g. "MotionTypes.ON_FOOT", "PredictedModeTypes.TRAM"
	Distance   float64 // meters
	Duration   float64 // seconds
	StartTS    float64 // seconds since the epoch
	EndTS      float64
	StartDate  string // start_fmt_time: local time with offset
	EndDate    string
	// Track is the section's tracked points.
	Track Track
}

// Track is a section's tracked points: JSON arrays exactly as the series holds them, nil when it
// has none. They stay undecoded because most readers want a section's figures, not its points;
// [Track.Positions] decodes the geometry.
type Track struct {
	Coordinates json.RawMessage // GeoJSON positions of the section's LineString
	Distances   json.RawMessage // meters from the previous point, one per position
	Timestamps  json.RawMessage // milliseconds since the epoch, one per position
	Speeds      json.RawMessage // meters per second, one per position
}

// Point is a position, GeoJSON order.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// Position is one GeoJSON position of a track (RFC 7946, 3.1.1).
type Position struct {
	Point
	Alt    float64 // meters, when HasAlt
	HasAlt bool
}

// series is the part of a trip FeatureCollection that Route reads; the rest is skipped.
type series struct {
	Properties struct {
		StartLoc geoPoint `json:"start_loc"`
		EndLoc   geoPoint `json:"end_loc"`
	} `json:"properties"`
	// Features are the start and end places, the stops, and one FeatureCollection per section.
	Features []struct {
		Type       string `json:"type"`
		Properties struct {
			FeatureType string `json:"feature_type"`
			DisplayName string `json:"display_name"`
		} `json:"properties"`
		// Features of a section's FeatureCollection: the section's Feature comes first.
		Features []sectionFeature `json:"features"`
	} `json:"features"`
}

type geoPoint struct {
	Coordinates []float64 `json:"coordinates"`
}

type sectionFeature struct {
	ID       string `json:"id"`
	Geometry struct {
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		SensedMode string          `json:"sensed_mode"`
		Distance   float64         `json:"distance"`
		Duration   float64         `json:"duration"`
		StartTS    float64         `json:"start_ts"`
		EndTS      float64         `json:"end_ts"`
		StartDate  string          `json:"start_fmt_time"`
		EndDate    string          `json:"end_fmt_time"`
		Distances  json.RawMessage `json:"distances"`
		Timestamps json.RawMessage `json:"timestamps"`
		Speeds     json.RawMessage `json:"speeds"`
	} `json:"properties"`
}

// Route reads the trip's sections, ends and place names from its series, in one pass. A member of
// the wrong type (a distance that is a string) is an error that names it: the conversion refuses
// such trips, so a trip in the vault always reads.
func (d *Doc) Route() (Route, error) {
	var r Route
	if len(d.Series) == 0 {
		return r, fmt.Errorf("trip %s has no series", d.ID)
	}
	var s series
	if err := json.Unmarshal(d.Series[0], &s); err != nil {
		return r, fmt.Errorf("trip %s: cannot read its series: %w", d.ID, err)
	}
	if start, end := s.Properties.StartLoc.Coordinates, s.Properties.EndLoc.Coordinates; len(start) >= 2 && len(end) >= 2 {
		r.Start, r.End, r.HasEnds = Point{start[0], start[1]}, Point{end[0], end[1]}, true
	}
	for _, f := range s.Features {
		switch {
		case f.Type == "FeatureCollection":
			var sf sectionFeature // a section without its Feature reads as zeros
			if len(f.Features) > 0 {
				sf = f.Features[0]
			}
			p := sf.Properties
			r.Sections = append(r.Sections, Section{
				Index: len(r.Sections), ID: sf.ID, SensedMode: p.SensedMode,
				Distance: p.Distance, Duration: p.Duration, StartTS: p.StartTS, EndTS: p.EndTS,
				StartDate: p.StartDate, EndDate: p.EndDate,
				Track: Track{Coordinates: sf.Geometry.Coordinates, Distances: p.Distances, Timestamps: p.Timestamps, Speeds: p.Speeds},
			})
		case f.Properties.FeatureType == "start_place":
			r.StartPlace = f.Properties.DisplayName
		case f.Properties.FeatureType == "end_place":
			r.EndPlace = f.Properties.DisplayName
		}
	}
	return r, nil
}

// Sections reads the trip's sections from its series (see [Doc.Route]).
func (d *Doc) Sections() ([]Section, error) {
	r, err := d.Route()
	return r.Sections, err
}

// Positions decodes the track's positions. Positions that are not valid are left out: fewer than
// two numbers, a longitude outside [-180, 180] or a latitude outside [-90, 90]. An altitude, the
// third number, is kept; further numbers, which RFC 7946 advises against, are dropped.
func (t Track) Positions() []Position {
	var raw []json.RawMessage
	if json.Unmarshal(t.Coordinates, &raw) != nil {
		return nil
	}
	out := make([]Position, 0, len(raw))
	for _, r := range raw {
		if p, err := parsePosition(r); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePosition(raw json.RawMessage) (Position, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return Position{}, err
	}
	if len(elems) < 2 {
		return Position{}, errors.New("fewer than two numbers")
	}
	var v [3]float64
	for i, e := range elems[:min(len(elems), 3)] {
		f, err := finite(e)
		if err != nil {
			return Position{}, err
		}
		v[i] = f
	}
	if v[0] < -180 || v[0] > 180 || v[1] < -90 || v[1] > 90 {
		return Position{}, errors.New("out of range")
	}
	return Position{Point: Point{Lon: v[0], Lat: v[1]}, Alt: v[2], HasAlt: len(elems) > 2}, nil
}

// finite reads a JSON number that a float64 holds (1e999 does not).
func finite(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, errors.New("not a number")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %s out of range", raw)
	}
	return f, nil
}

// Manual holds the corrections the person made in the app. Sync never changes them.
type Manual struct {
	// Purpose is the trip's purpose as the person set it (or as propagated from a similar trip
	// they set, see PurposeFrom).
	Purpose Purpose `json:"purpose,omitempty"`
	// PurposeFrom says where Purpose comes from: "user" (set on this trip), "recurring" (copied
	// from a similar trip the person set).
	PurposeFrom string `json:"purposeFrom,omitempty"`
	// PurposeSource is the recurring trip the purpose was copied from (PurposeFrom
	// "recurring"), so that the copy can be undone.
	PurposeSource string `json:"purposeSource,omitempty"`
	Title         string `json:"title,omitempty"`
	// Recurring marks the trip as a recurring one: its purpose propagates to similar trips.
	Recurring bool `json:"recurring,omitempty"`
	// Mode is a mode the person chose for the whole trip: like a trip label from the phone, it
	// applies to the trip's non-walking sections (to all of them when every one is walking).
	Mode Mode `json:"mode,omitempty"`
	// SectionModes are modes the person chose for sections, by section index ("0", "1"...); they
	// win over Mode.
	SectionModes map[string]Mode `json:"sectionModes,omitempty"`
}

// ManualEdits decodes the app's corrections (none when the trip has none).
func (d *Doc) ManualEdits() (Manual, error) {
	var m Manual
	if len(d.Manual) == 0 || string(d.Manual) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(d.Manual, &m); err != nil {
		return m, fmt.Errorf("trip %s: manual corrections: %w", d.ID, err)
	}
	return m, nil
}

// SetManual encodes the app's corrections into the document.
func (d *Doc) SetManual(m Manual) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	d.Manual = raw
	return nil
}

// Aggregation is what the app computed for a trip, stored in the trip document (as the existing
// Coach CO2 app does) so that lists and indicators read small documents. It records what it was
// computed with: a change of factor set, settings or trip makes it stale (see Stamp).
type Aggregation struct {
	// Stamp identifies the inputs: factor set id and version, settings and trip content.
	Stamp          Stamp  `json:"stamp"`
	AutomaticTitle string `json:"automaticTitle"`
	// Title is the title the person gave the trip in the app, if any: it is shown instead of
	// AutomaticTitle (see ShownTitle).
	Title         string  `json:"title,omitempty"`
	TotalCO2      float64 `json:"totalCO2"`      // kg
	TotalDistance float64 `json:"totalDistance"` // m, the sum of the sections' distances
	TotalDuration float64 `json:"totalDuration"` // s
	TotalCalories float64 `json:"totalCalories"` // kcal
	// StartPlaceDisplayName and EndPlaceDisplayName are the server's geocoded names, if any.
	StartPlaceDisplayName string `json:"startPlaceDisplayName,omitempty"`
	EndPlaceDisplayName   string `json:"endPlaceDisplayName,omitempty"`
	Coordinates           struct {
		StartPoint Point `json:"startPoint"`
		EndPoint   Point `json:"endPoint"`
	} `json:"coordinates"`
	Purpose   Purpose `json:"purpose"`
	Modes     []Mode  `json:"modes"`
	Recurring bool    `json:"recurring"`
	// NotATrip is set when the person labelled it not_a_trip: it counts in no indicator.
	NotATrip bool `json:"notATrip,omitempty"`
	// StartTS and LocalStart place the trip in time; LocalStart is the start in the trip's own
	// time zone ("2016-06-20T08:28:03-07:00"), which decides its calendar day and month.
	StartTS    float64            `json:"startTs"`
	LocalStart string             `json:"localStart"`
	Sections   []SectionAggregate `json:"sections"`
}

// ShownTitle is the trip's title as shown: the person's, else the automatic one.
func (a Aggregation) ShownTitle() string {
	if a.Title != "" {
		return a.Title
	}
	return a.AutomaticTitle
}

// Stamp records what an aggregation was computed from.
type Stamp struct {
	FactorSet        string `json:"factorSet"`
	FactorSetVersion string `json:"factorSetVersion"`
	// Settings is a hash of the settings that change figures (default modes, home and work).
	Settings string `json:"settings"`
	// Trip is a hash of the trip's content (server data, labels, corrections).
	Trip string `json:"trip"`
	// Engine is the version of the computation itself.
	Engine int `json:"engine"`
}

// SectionAggregate is one section's figures.
type SectionAggregate struct {
	ID        string  `json:"id,omitempty"`
	Mode      Mode    `json:"mode"`
	CO2       float64 `json:"CO2"`      // kg
	Calories  float64 `json:"calories"` // kcal
	AvgSpeed  float64 `json:"avgSpeed"` // km/h, everywhere
	Distance  float64 `json:"distance"` // m
	Duration  float64 `json:"duration"` // s
	StartDate string  `json:"startDate"`
	EndDate   string  `json:"endDate"`
	// LabelValue is the raw e-mission label that chose the mode, kept when it is not a known
	// mode (the mode is then UNKNOWN, and the label is shown).
	LabelValue string `json:"labelValue,omitempty"`
}

// Aggregate decodes the app's aggregation; ok is false when the trip has none.
func (d *Doc) Aggregate() (a Aggregation, ok bool, err error) {
	if len(d.Aggregation) == 0 || string(d.Aggregation) == "null" {
		return a, false, nil
	}
	if err := json.Unmarshal(d.Aggregation, &a); err != nil {
		return a, false, fmt.Errorf("trip %s: aggregation: %w", d.ID, err)
	}
	return a, true, nil
}
