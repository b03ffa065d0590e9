package trip

import (
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"
)

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
}

// Point is a position, GeoJSON order.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// Sections reads the trip's sections from its series, without decoding the geometry.
func (d *Doc) Sections() ([]Section, error) {
	if len(d.Series) == 0 {
		return nil, fmt.Errorf("trip %s has no series", d.ID)
	}
	var out []Section
	for _, f := range gjson.GetBytes(d.Series[0], "features").Array() {
		if f.Get("type").String() != "FeatureCollection" {
			continue
		}
		s := f.Get("features.0")
		p := s.Get("properties")
		out = append(out, Section{
			Index:      len(out),
			ID:         s.Get("id").String(),
			SensedMode: p.Get("sensed_mode").String(),
			Distance:   p.Get("distance").Float(),
			Duration:   p.Get("duration").Float(),
			StartTS:    p.Get("start_ts").Float(),
			EndTS:      p.Get("end_ts").Float(),
			StartDate:  p.Get("start_fmt_time").String(),
			EndDate:    p.Get("end_fmt_time").String(),
		})
	}
	return out, nil
}

// Ends returns where the trip started and ended; ok is false when the series does not say.
func (d *Doc) Ends() (start, end Point, ok bool) {
	if len(d.Series) == 0 {
		return Point{}, Point{}, false
	}
	p := gjson.GetBytes(d.Series[0], "properties")
	s, e := p.Get("start_loc.coordinates").Array(), p.Get("end_loc.coordinates").Array()
	if len(s) < 2 || len(e) < 2 {
		return Point{}, Point{}, false
	}
	return Point{s[0].Float(), s[1].Float()}, Point{e[0].Float(), e[1].Float()}, true
}

// PlaceNames returns the display names of the start and end places, when the server geocoded them.
func (d *Doc) PlaceNames() (start, end string) {
	if len(d.Series) == 0 {
		return "", ""
	}
	for _, f := range gjson.GetBytes(d.Series[0], "features").Array() {
		switch f.Get("properties.feature_type").String() {
		case "start_place":
			start = f.Get("properties.display_name").String()
		case "end_place":
			end = f.Get("properties.display_name").String()
		}
	}
	return start, end
}

// Manual holds the corrections the person made in the app. Sync never changes them.
type Manual struct {
	// Purpose is the trip's purpose as the person set it (or as propagated from a similar trip
	// they set, see PurposeFrom).
	Purpose Purpose `json:"purpose,omitempty"`
	// PurposeFrom says where Purpose comes from: "user" (set on this trip), "recurring" (copied
	// from a similar trip the person set).
	PurposeFrom string `json:"purposeFrom,omitempty"`
	Title       string `json:"title,omitempty"`
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
	Stamp          Stamp   `json:"stamp"`
	AutomaticTitle string  `json:"automaticTitle"`
	TotalCO2       float64 `json:"totalCO2"`      // kg
	TotalDistance  float64 `json:"totalDistance"` // m, the sum of the sections' distances
	TotalDuration  float64 `json:"totalDuration"` // s
	TotalCalories  float64 `json:"totalCalories"` // kcal
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
