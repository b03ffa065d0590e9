package figures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/jsonscan"
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

// routeOf is doc.Route without the tracks. When the series is plain it reads it in one pass (a
// sync reads the facts of every trip it writes, and encoding/json takes most of that time, as
// would gjson going over each section's points once per member it looks up); else, or when the
// series has a shape the pass does not read (see readRoute), it asks Route.
func routeOf(doc *trip.Doc) (trip.Route, error) {
	if doc.RouteIsPlain() {
		if r, ok := readRoute(doc.Series[0]); ok {
			return r, nil
		}
	}
	r, err := doc.Route()
	for i := range r.Sections {
		r.Sections[i].Track = trip.Track{}
	}
	return r, err
}

// readRoute reads the route of a plain series, its members found as gjson finds them (the first
// of a name). ok is false when the series holds a shape this reading leaves to Route: a key with
// an escape, features that are not a list, a section's features that are not one, or a text that
// is not valid UTF-8 (encoding/json would replace the bad bytes).
func readRoute(series []byte) (r trip.Route, ok bool) {
	at := jsonscan.SkipSpace(series, 0)
	if at >= len(series) || series[at] != '{' {
		return r, false
	}
	ok = true
	var props []byte
	seenFeatures := false
	jsonscan.Members(series, at, func(k []byte, v int) int {
		ok = ok && plainKey(k)
		switch {
		case string(k) == `"properties"` && props == nil:
			end := jsonscan.End(series, v)
			props = series[v:end]
			return end
		case string(k) == `"features"` && !seenFeatures:
			seenFeatures = true
			if series[v] != '[' {
				if series[v] != 'n' { // null: no features, as gjson's ForEach has it
					ok = false
				}
				return jsonscan.End(series, v)
			}
			return jsonscan.Elements(series, v, func(f int) int {
				if series[f] != '{' {
					return jsonscan.End(series, f) // no member to read: neither section nor place
				}
				end, fine := readFeature(series, f, &r)
				ok = ok && fine
				return end
			})
		}
		return jsonscan.End(series, v)
	})
	if !ok {
		return trip.Route{}, false
	}
	p := gjson.ParseBytes(props)
	start, end := p.Get("start_loc.coordinates").Array(), p.Get("end_loc.coordinates").Array()
	if len(start) >= 2 && len(end) >= 2 {
		r.Start, r.End, r.HasEnds = trip.Point{Lon: start[0].Float(), Lat: start[1].Float()}, trip.Point{Lon: end[0].Float(), Lat: end[1].Float()}, true
	}
	return r, true
}

// readFeature reads the feature object at series[at] into r: a section when its type is
// FeatureCollection (read from its first feature), else a start or end place. It returns the
// feature's end.
func readFeature(series []byte, at int, r *trip.Route) (end int, ok bool) {
	ok = true
	var typ, props []byte
	// Of the first feature: a section without it reads as zeros.
	var id gjson.Result
	var sectionProps sectionFields
	seenFeatures := false
	end = jsonscan.Members(series, at, func(k []byte, v int) int {
		ok = ok && plainKey(k)
		end := 0
		switch {
		case string(k) == `"features"` && !seenFeatures:
			seenFeatures = true
			if series[v] != '[' {
				ok = ok && series[v] == 'n' // null: no first feature, as gjson's "features.0" has it
				return jsonscan.End(series, v)
			}
			first := true
			return jsonscan.Elements(series, v, func(e int) int {
				if !first || series[e] != '{' {
					first = false
					return jsonscan.End(series, e)
				}
				first = false
				end, fine := readSection(series, e, &id, &sectionProps)
				ok = ok && fine
				return end
			})
		case string(k) == `"type"` && typ == nil:
			end = jsonscan.End(series, v)
			typ = series[v:end]
		case string(k) == `"properties"` && props == nil:
			end = jsonscan.End(series, v)
			props = series[v:end]
		default:
			end = jsonscan.End(series, v)
		}
		return end
	})
	str := func(v gjson.Result) string {
		if !utf8.ValidString(v.Str) {
			ok = false
		}
		return v.Str
	}
	switch {
	case gjson.ParseBytes(typ).Str == "FeatureCollection":
		p := sectionProps
		r.Sections = append(r.Sections, trip.Section{
			Index: len(r.Sections), ID: str(id), SensedMode: str(p.sensedMode),
			Distance: p.distance.Float(), Duration: p.duration.Float(),
			StartTS: p.startTS.Float(), EndTS: p.endTS.Float(),
			StartDate: str(p.startDate), EndDate: str(p.endDate),
		})
	default:
		p := gjson.ParseBytes(props)
		switch p.Get("feature_type").Str {
		case "start_place":
			r.StartPlace = str(p.Get("display_name"))
		case "end_place":
			r.EndPlace = str(p.Get("display_name"))
		}
	}
	return end, ok
}

// plainKey reports whether the key k (quotes included) has no escape: read as it is, it is the
// name gjson and encoding/json read.
func plainKey(k []byte) bool { return bytes.IndexByte(k, '\\') < 0 }

// sectionFields are the members of a section's properties a route reads.
type sectionFields struct {
	sensedMode, distance, duration, startTS, endTS, startDate, endDate gjson.Result
}

// readSection reads the id and properties of a section's feature, the object at series[at],
// going over its points once (its properties hold a speed and a distance per point too), and
// returns its end.
func readSection(series []byte, at int, id *gjson.Result, props *sectionFields) (end int, ok bool) {
	ok = true
	seenProps := false
	end = jsonscan.Members(series, at, func(k []byte, v int) int {
		ok = ok && plainKey(k)
		switch {
		case string(k) == `"id"` && !id.Exists():
			end := jsonscan.End(series, v)
			*id = gjson.ParseBytes(series[v:end])
			return end
		case string(k) == `"properties"` && !seenProps:
			seenProps = true
			if series[v] != '{' {
				return jsonscan.End(series, v) // no member: zeros, as gjson's Get has it
			}
			return jsonscan.Members(series, v, func(k []byte, v int) int {
				ok = ok && plainKey(k)
				end := jsonscan.End(series, v)
				var r *gjson.Result
				switch string(k) {
				case `"sensed_mode"`:
					r = &props.sensedMode
				case `"distance"`:
					r = &props.distance
				case `"duration"`:
					r = &props.duration
				case `"start_ts"`:
					r = &props.startTS
				case `"end_ts"`:
					r = &props.endTS
				case `"start_fmt_time"`:
					r = &props.startDate
				case `"end_fmt_time"`:
					r = &props.endDate
				}
				if r != nil && !r.Exists() {
					*r = gjson.ParseBytes(series[v:end])
				}
				return end
			})
		}
		return jsonscan.End(series, v)
	})
	return end, ok
}
