package figures

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Facts are what a trip's figures are computed from: its route without the tracked points, its
// labels and the person's corrections. The figures cache keeps each trip's facts beside its
// figures, so that new settings (a factor set, a default mode, home or work) recompute every
// trip's figures from the cache alone, without reading or writing a trip document.
type Facts struct {
	// Trip is the hash of the trip's content the facts were read from: its server data, labels
	// and corrections (the Trip part of the figures' stamp).
	Trip       string
	Device     string
	LocalStart string
	StartTS    float64
	Sections   []FactSection
	Start      trip.Point
	End        trip.Point
	HasEnds    bool
	StartPlace string
	EndPlace   string
	// ModeLabel and PurposeLabel are the values of the phone's mode and purpose labels, nil when
	// the trip has none.
	ModeLabel, PurposeLabel *string
	// Manual is the person's corrections as stored in the trip.
	Manual json.RawMessage
}

// FactSection is what a section's figures are computed from. Facts are stored in the cache's
// binary form (cachecodec.go), not as JSON.
type FactSection struct {
	ID         string
	SensedMode string
	Distance   float64
	Duration   float64
	StartDate  string
	EndDate    string
}

// FactsOf reads a trip's facts from its document: the one read of its series that computing its
// figures needs.
func FactsOf(doc *trip.Doc) (Facts, error) {
	route, err := routeOf(doc)
	if err != nil {
		return Facts{}, err
	}
	if _, err := doc.ManualEdits(); err != nil {
		return Facts{}, err
	}
	f := Facts{
		Trip: tripHash(doc.Server, doc.Labels, doc.Manual), Device: doc.CaptureDevice,
		LocalStart: doc.StartDate, StartTS: doc.Server.StartTS,
		Start: route.Start, End: route.End, HasEnds: route.HasEnds,
		StartPlace: route.StartPlace, EndPlace: route.EndPlace,
		Manual: doc.Manual,
	}
	if l := doc.Labels.Mode; l != nil {
		f.ModeLabel = &l.Value
	}
	if l := doc.Labels.Purpose; l != nil {
		f.PurposeLabel = &l.Value
	}
	if len(route.Sections) > 0 {
		f.Sections = make([]FactSection, len(route.Sections))
	}
	for i, s := range route.Sections {
		f.Sections[i] = FactSection{ID: s.ID, SensedMode: s.SensedMode, Distance: s.Distance, Duration: s.Duration,
			StartDate: s.StartDate, EndDate: s.EndDate}
	}
	return f, nil
}

// manual decodes the person's corrections.
func (f *Facts) manual() (trip.Manual, error) {
	var m trip.Manual
	if len(f.Manual) == 0 || string(f.Manual) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(f.Manual, &m); err != nil {
		return m, fmt.Errorf("manual corrections: %w", err)
	}
	return m, nil
}

// routeOf is doc.Route without the tracks, read with gjson when the series is plain (a sync reads
// the facts of every trip it writes, and encoding/json takes most of that time), else by Route.
func routeOf(doc *trip.Doc) (trip.Route, error) {
	if !doc.RouteIsPlain() {
		r, err := doc.Route()
		for i := range r.Sections {
			r.Sections[i].Track = trip.Track{}
		}
		return r, err
	}
	var r trip.Route
	series := doc.Series[0]
	start := gjson.GetBytes(series, "properties.start_loc.coordinates").Array()
	end := gjson.GetBytes(series, "properties.end_loc.coordinates").Array()
	if len(start) >= 2 && len(end) >= 2 {
		r.Start, r.End, r.HasEnds = trip.Point{Lon: start[0].Float(), Lat: start[1].Float()}, trip.Point{Lon: end[0].Float(), Lat: end[1].Float()}, true
	}
	plain := true
	str := func(v gjson.Result) string {
		if !utf8.ValidString(v.Str) { // encoding/json would replace the bad bytes
			plain = false
		}
		return v.Str
	}
	gjson.GetBytes(series, "features").ForEach(func(_, f gjson.Result) bool {
		switch {
		case f.Get("type").Str == "FeatureCollection":
			sf := f.Get("features.0") // a section without its Feature reads as zeros
			p := sf.Get("properties")
			r.Sections = append(r.Sections, trip.Section{
				Index: len(r.Sections), ID: str(sf.Get("id")), SensedMode: str(p.Get("sensed_mode")),
				Distance: p.Get("distance").Float(), Duration: p.Get("duration").Float(),
				StartTS: p.Get("start_ts").Float(), EndTS: p.Get("end_ts").Float(),
				StartDate: str(p.Get("start_fmt_time")), EndDate: str(p.Get("end_fmt_time")),
			})
		case f.Get("properties.feature_type").Str == "start_place":
			r.StartPlace = str(f.Get("properties.display_name"))
		case f.Get("properties.feature_type").Str == "end_place":
			r.EndPlace = str(f.Get("properties.display_name"))
		}
		return true
	})
	if !plain {
		r, err := doc.Route()
		for i := range r.Sections {
			r.Sections[i].Track = trip.Track{}
		}
		return r, err
	}
	return r, nil
}
