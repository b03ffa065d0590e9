package tripgen

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// AppendGeoJSON appends the trip as the FeatureCollection getTrips returns: trip properties (times
// in seconds, local dicts, formatted local times, places, section summaries, user_input), then a
// start_place and an end_place Point, the stops, and one FeatureCollection per section holding its
// LineString with per-point times, timestamps, speeds and distances.
func (t *Trip) AppendGeoJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"FeatureCollection","properties":`...)
	dst = t.AppendProperties(dst)
	w := jsonWriter{b: dst}
	start, end := t.StartTS(), t.EndTS()
	w.raw(`,"features":[`)

	// Start and end places.
	w.raw(`{"type":"Feature","geometry":`)
	w.point(t.From.Lon, t.From.Lat)
	w.raw(`,"properties":{"source":"DwellSegmentationTimeFilter"`)
	w.key(",", "display_name")
	w.str(t.From.Name)
	w.key(",", "starting_trip")
	w.oid(t.ID)
	w.placeTime(",", "exit", start, t.loc)
	w.raw(`,"feature_type":"start_place"},"id":`)
	w.str(t.StartPlaceID)
	w.raw(`},{"type":"Feature","geometry":`)
	w.point(t.To.Lon, t.To.Lat)
	w.raw(`,"properties":{"source":"DwellSegmentationTimeFilter"`)
	w.key(",", "display_name")
	w.str(t.To.Name)
	w.key(",", "ending_trip")
	w.oid(t.ID)
	w.placeTime(",", "enter", end, t.loc)
	if t.NextTripID != "" {
		w.key(",", "starting_trip")
		w.oid(t.NextTripID)
		w.placeTime(",", "exit", t.NextStart, t.loc)
		w.key(",", "duration")
		w.num(t.NextStart - end)
	}
	w.raw(`,"feature_type":"end_place"},"id":`)
	w.str(t.EndPlaceID)
	w.raw("}")

	// Stops between sections.
	for i, s := range t.Stops {
		w.raw(`,{"type":"Feature","geometry":{"type":"LineString","coordinates":[`)
		w.coords(s.Enter.Lon, s.Enter.Lat)
		w.raw(",")
		w.coords(s.Exit.Lon, s.Exit.Lat)
		w.raw(`]},"properties":{"trip_id":`)
		w.oid(t.ID)
		w.raw(`,"source":"SmoothedHighConfidenceMotion","ending_section":`)
		w.oid(t.Sections[i].ID)
		w.key(",", "starting_section")
		w.oid(t.Sections[i+1].ID)
		w.placeTime(",", "enter", s.Enter.TS, t.loc)
		w.key(",", "enter_loc")
		w.point(s.Enter.Lon, s.Enter.Lat)
		w.placeTime(",", "exit", s.Exit.TS, t.loc)
		w.key(",", "exit_loc")
		w.point(s.Exit.Lon, s.Exit.Lat)
		w.key(",", "duration")
		w.num(s.Exit.TS - s.Enter.TS)
		w.key(",", "distance")
		w.num(s.Distance)
		w.raw(`,"feature_type":"stop"},"id":`)
		w.str(s.ID)
		w.raw("}")
	}

	// Sections.
	for i := range t.Sections {
		s := &t.Sections[i]
		w.raw(`,{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[`)
		for j, p := range s.Points {
			if j > 0 {
				w.raw(",")
			}
			w.coords(p.Lon, p.Lat)
		}
		w.raw(`]},"properties":{"times":[`)
		for j, p := range s.Points {
			if j > 0 {
				w.raw(",")
			}
			w.num(p.TS)
		}
		w.raw(`],"timestamps":[`)
		for j, p := range s.Points {
			if j > 0 {
				w.raw(",")
			}
			w.b = strconv.AppendInt(w.b, int64(math.Floor(p.TS*1000)), 10)
		}
		w.raw(`],"source":"SmoothedHighConfidenceMotion","trip_id":`)
		w.oid(t.ID)
		w.timeFields(",", "start", s.Points[0].TS, t.loc)
		w.timeFields(",", "end", lastPoint(*s).TS, t.loc)
		w.key(",", "duration")
		w.num(s.Duration())
		w.raw(`,"speeds":[`)
		for j, p := range s.Points {
			if j > 0 {
				w.raw(",")
			}
			w.num(p.Speed)
		}
		w.raw(`],"distances":[`)
		for j, p := range s.Points {
			if j > 0 {
				w.raw(",")
			}
			w.num(p.Distance)
		}
		w.raw(`]`)
		w.key(",", "distance")
		w.num(s.Distance)
		w.key(",", "sensed_mode")
		w.str(s.Mode.SensedMode())
		w.raw(`,"feature_type":"section"`)
		if i > 0 {
			w.key(",", "start_stop")
			w.oid(t.Stops[i-1].ID)
		}
		if i < len(t.Stops) {
			w.key(",", "end_stop")
			w.oid(t.Stops[i].ID)
		}
		w.raw(`},"id":`)
		w.str(s.ID)
		w.raw("}]}")
	}
	w.raw(`],"id":`)
	w.str(t.ID)
	w.raw("}")
	return w.b
}

// AppendProperties appends the trip's properties object alone, as getTrips puts it in the
// FeatureCollection and as trip entries (analysis/confirmed_trip) hold it in their data.
func (t *Trip) AppendProperties(dst []byte) []byte {
	w := jsonWriter{b: dst}
	start, end := t.StartTS(), t.EndTS()
	first, last := t.Sections[0].Points[0], lastPoint(t.Sections[len(t.Sections)-1])
	w.raw(`{"source":"DwellSegmentationTimeFilter"`)
	w.timeFields(",", "start", start, t.loc)
	w.key(",", "start_loc")
	w.point(first.Lon, first.Lat)
	w.timeFields(",", "end", end, t.loc)
	w.key(",", "end_loc")
	w.point(last.Lon, last.Lat)
	w.key(",", "duration")
	w.num(end - start)
	w.key(",", "distance")
	w.num(t.Distance())
	w.key(",", "raw_trip")
	w.oid(t.RawTripID)
	w.key(",", "start_place")
	w.oid(t.StartPlaceID)
	w.key(",", "end_place")
	w.oid(t.EndPlaceID)
	w.key(",", "cleaned_section_summary")
	t.summary(&w, Mode.MotionType)
	w.key(",", "inferred_section_summary")
	t.summary(&w, Mode.String)
	w.raw(`,"inferred_labels":[],"expectation":{"to_label":true},"confidence_threshold":0.55`)
	w.key(",", "user_input")
	w.raw("{")
	sep := ""
	for _, key := range []string{openpath.KeyModeConfirm, openpath.KeyPurposeConfirm} {
		if v := t.latestLabel(key); v != "" {
			w.key(sep, key[len("manual/"):])
			w.str(v)
			sep = ","
		}
	}
	w.raw(`},"feature_type":"trip"}`)
	return w.b
}

// latestLabel returns the value of the last label with key, "" if none.
func (t *Trip) latestLabel(key string) string {
	v, at := "", 0.0
	for _, l := range t.Labels {
		if l.Key == key && l.WriteTS >= at {
			v, at = l.Value, l.WriteTS
		}
	}
	return v
}

// summary appends a *_section_summary: distance, duration and count per mode name.
func (t *Trip) summary(w *jsonWriter, name func(Mode) string) {
	var names []string
	sums := map[string]*[3]float64{}
	for i := range t.Sections {
		s := &t.Sections[i]
		n := name(s.Mode)
		if sums[n] == nil {
			sums[n] = &[3]float64{}
			names = append(names, n)
		}
		sums[n][0] += s.Distance
		sums[n][1] += s.Duration()
		sums[n][2]++
	}
	for k, field := range []string{"distance", "duration", "count"} {
		if k == 0 {
			w.raw("{")
		} else {
			w.raw(",")
		}
		w.key("", field)
		w.raw("{")
		for i, n := range names {
			sep := ","
			if i == 0 {
				sep = ""
			}
			w.key(sep, n)
			w.num(sums[n][k])
		}
		w.raw("}")
	}
	w.raw("}")
}

// AppendEntryJSON appends the label as the manual/* entry find_entries returns, for the user with
// e-mission id userUUID in time zone loc.
func (l *Label) AppendEntryJSON(dst []byte, userUUID string, loc *time.Location) []byte {
	w := jsonWriter{b: dst}
	w.raw(`{"_id":`)
	w.oid(l.ID)
	w.raw(`,"user_id":{"$uuid":`)
	w.str(userUUID)
	w.raw(`},"metadata":{"key":`)
	w.str(l.Key)
	w.raw(`,"platform":"android","read_ts":0,"time_zone":`)
	w.str(loc.String())
	w.raw(`,"type":"message"`)
	w.key(",", "write_ts")
	w.num(l.WriteTS)
	wt := openpath.TimeOf(l.WriteTS).In(loc)
	w.key(",", "write_local_dt")
	w.localDt(wt)
	w.key(",", "write_fmt_time")
	w.str(openpath.FormatTime(wt))
	w.raw(`},"data":{"start_ts":`)
	w.num(l.StartTS)
	w.key(",", "end_ts")
	w.num(l.EndTS)
	w.key(",", "label")
	w.str(l.Value)
	st, et := openpath.TimeOf(l.StartTS).In(loc), openpath.TimeOf(l.EndTS).In(loc)
	w.key(",", "start_local_dt")
	w.localDt(st)
	w.key(",", "start_fmt_time")
	w.str(openpath.FormatTime(st))
	w.key(",", "end_local_dt")
	w.localDt(et)
	w.key(",", "end_fmt_time")
	w.str(openpath.FormatTime(et))
	w.raw("}}")
	return w.b
}

func lastPoint(s Section) Point { return s.Points[len(s.Points)-1] }

// jsonWriter appends JSON by hand: the generator's output is large and regular, and this is several
// times faster than encoding/json.
type jsonWriter struct{ b []byte }

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

// key appends sep, then "k":.
func (w *jsonWriter) key(sep, k string) {
	w.b = append(w.b, sep...)
	w.str(k)
	w.b = append(w.b, ':')
}

// str appends s as a JSON string.
func (w *jsonWriter) str(s string) {
	const hexDigits = "0123456789abcdef"
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			w.b = append(w.b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				w.b = append(w.b, '\\', c)
			default:
				w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.b = append(w.b, `\ufffd`...)
		} else {
			w.b = append(w.b, s[i:i+size]...)
		}
		i += size
	}
	w.b = append(w.b, '"')
}

// num appends a float in the shortest form that reads back exactly.
func (w *jsonWriter) num(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	w.b = strconv.AppendFloat(w.b, f, 'f', -1, 64)
}

func (w *jsonWriter) oid(id string) {
	w.raw(`{"$oid":`)
	w.str(id)
	w.raw("}")
}

// coords appends [lon,lat] rounded to 1e-7 degree (about a centimeter).
func (w *jsonWriter) coords(lon, lat float64) {
	w.b = append(w.b, '[')
	w.b = strconv.AppendFloat(w.b, math.Round(lon*1e7)/1e7, 'f', -1, 64)
	w.b = append(w.b, ',')
	w.b = strconv.AppendFloat(w.b, math.Round(lat*1e7)/1e7, 'f', -1, 64)
	w.b = append(w.b, ']')
}

func (w *jsonWriter) point(lon, lat float64) {
	w.raw(`{"type":"Point","coordinates":`)
	w.coords(lon, lat)
	w.raw("}")
}

func (w *jsonWriter) localDt(t time.Time) {
	l := openpath.NewLocalDate(t)
	w.raw(`{"year":`)
	w.b = strconv.AppendInt(w.b, int64(l.Year), 10)
	w.raw(`,"month":`)
	w.b = strconv.AppendInt(w.b, int64(l.Month), 10)
	w.raw(`,"day":`)
	w.b = strconv.AppendInt(w.b, int64(l.Day), 10)
	w.raw(`,"hour":`)
	w.b = strconv.AppendInt(w.b, int64(l.Hour), 10)
	w.raw(`,"minute":`)
	w.b = strconv.AppendInt(w.b, int64(l.Minute), 10)
	w.raw(`,"second":`)
	w.b = strconv.AppendInt(w.b, int64(l.Second), 10)
	w.raw(`,"weekday":`)
	w.b = strconv.AppendInt(w.b, int64(l.Weekday), 10)
	w.raw(`,"timezone":`)
	w.str(l.Timezone)
	w.raw("}")
}

// timeFields appends <prefix>_ts, <prefix>_local_dt and <prefix>_fmt_time.
func (w *jsonWriter) timeFields(sep, prefix string, ts float64, loc *time.Location) {
	t := openpath.TimeOf(ts).In(loc)
	w.key(sep, prefix+"_ts")
	w.num(ts)
	w.key(",", prefix+"_local_dt")
	w.localDt(t)
	w.key(",", prefix+"_fmt_time")
	w.str(openpath.FormatTime(t))
}

// placeTime appends <prefix>_ts, <prefix>_fmt_time and <prefix>_local_dt, the order places use.
func (w *jsonWriter) placeTime(sep, prefix string, ts float64, loc *time.Location) {
	t := openpath.TimeOf(ts).In(loc)
	w.key(sep, prefix+"_ts")
	w.num(ts)
	w.key(",", prefix+"_fmt_time")
	w.str(openpath.FormatTime(t))
	w.key(",", prefix+"_local_dt")
	w.localDt(t)
}
