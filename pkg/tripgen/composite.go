package tripgen

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// AppendCompositeEntry appends the trip as the analysis/composite_trip entry a current e-mission
// server writes (see ../shared/openpath-samples/composite): the confirmed trip's fields as data,
// the start and end confirmed places, one analysis/inferred_section entry per section, and the
// trip's analysis/recreated_location entries, all written at writeTS, for the user with e-mission
// id userUUID. Its ids are derived from the trip's id, so the generator's draws are unchanged.
func (t *Trip) AppendCompositeEntry(dst []byte, userUUID string, writeTS float64) []byte {
	w := jsonWriter{b: dst}
	// Every entry inside is written at writeTS: each key's user_id and metadata are made once.
	metas := map[string][]byte{}
	meta := func(key string) {
		if m, ok := metas[key]; ok {
			w.b = append(w.b, m...)
			return
		}
		mw := jsonWriter{}
		wt := openpath.TimeOf(writeTS).In(t.loc)
		mw.raw(`,"user_id":{"$uuid":`)
		mw.str(userUUID)
		mw.raw(`},"metadata":{"key":`)
		mw.str(key)
		mw.raw(`,"platform":"server"`)
		mw.key(",", "write_ts")
		mw.num(writeTS)
		mw.key(",", "time_zone")
		mw.str(t.loc.String())
		mw.key(",", "write_local_dt")
		mw.localDt(wt)
		mw.key(",", "write_fmt_time")
		mw.str(openpath.FormatTime(wt))
		if key == openpath.KeyCompositeTrip {
			mw.raw(`,"origin_key":"analysis/confirmed_trip"`)
		}
		mw.raw("}")
		metas[key] = mw.b
		w.b = append(w.b, mw.b...)
	}
	w.raw(`{"_id":`)
	w.oid(t.derivedID("composite"))
	meta(openpath.KeyCompositeTrip)
	w.raw(`,"data":`)
	// The confirmed trip's properties, then what the composite trip adds.
	w.b = t.AppendProperties(w.b)
	w.b = w.b[:len(w.b)-len(`,"feature_type":"trip"}`)]
	w.key(",", "cleaned_trip")
	w.oid(t.ID)
	w.key(",", "confirmed_trip")
	w.oid(t.derivedID("confirmed"))
	w.raw(`,"additions":[]`)
	for k, place := range []struct {
		key, id string
		p       Place
		ts      float64
	}{{"start_confirmed_place", t.StartPlaceID, t.From, t.StartTS()}, {"end_confirmed_place", t.EndPlaceID, t.To, t.EndTS()}} {
		w.key(",", place.key)
		w.raw(`{"_id":`)
		w.oid(place.id)
		meta("analysis/confirmed_place")
		w.raw(`,"data":{"source":"DwellSegmentationTimeFilter","location":`)
		w.point(place.p.Lon, place.p.Lat)
		w.key(",", "display_name")
		w.str(place.p.Name)
		if k == 0 {
			w.key(",", "starting_trip")
			w.oid(t.derivedID("confirmed"))
			w.placeTime(",", "exit", place.ts, t.loc)
		} else {
			w.key(",", "ending_trip")
			w.oid(t.derivedID("confirmed"))
			w.placeTime(",", "enter", place.ts, t.loc)
		}
		w.raw(`,"user_input":{},"additions":[]}}`)
	}
	w.raw(`,"sections":[`)
	for i := range t.Sections {
		s := &t.Sections[i]
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"_id":`)
		w.oid(s.ID)
		meta("analysis/inferred_section")
		w.raw(`,"data":{"source":"SmoothedHighConfidenceMotion","trip_id":`)
		w.oid(t.ID)
		first, last := s.Points[0], lastPoint(*s)
		w.timeFields(",", "start", first.TS, t.loc)
		w.key(",", "start_loc")
		w.point(first.Lon, first.Lat)
		w.timeFields(",", "end", last.TS, t.loc)
		w.key(",", "end_loc")
		w.point(last.Lon, last.Lat)
		w.key(",", "duration")
		w.num(s.Duration())
		w.key(",", "distance")
		w.num(s.Distance)
		w.key(",", "sensed_mode")
		w.b = strconv.AppendInt(w.b, int64(s.Mode), 10)
		w.key(",", "sensed_mode_str")
		w.str(s.Mode.String())
		w.raw("}}")
	}
	w.raw(`],"locations":[`)
	idx := 0
	for i := range t.Sections {
		s := &t.Sections[i]
		for _, p := range s.Points {
			if idx > 0 {
				w.raw(",")
			}
			w.raw(`{"_id":`)
			w.oid(t.derivedID("location" + strconv.Itoa(idx)))
			meta("analysis/recreated_location")
			w.key(",", "data")
			w.raw(`{"latitude":`)
			w.num(p.Lat)
			w.key(",", "longitude")
			w.num(p.Lon)
			w.key(",", "loc")
			w.point(p.Lon, p.Lat)
			pt := openpath.TimeOf(p.TS).In(t.loc)
			w.key(",", "ts")
			w.num(p.TS)
			w.key(",", "local_dt")
			w.localDt(pt)
			w.key(",", "fmt_time")
			w.str(openpath.FormatTime(pt))
			w.key(",", "distance")
			w.num(p.Distance)
			w.key(",", "speed")
			w.num(p.Speed)
			w.key(",", "idx")
			w.b = strconv.AppendInt(w.b, int64(idx), 10)
			w.key(",", "mode")
			w.b = strconv.AppendInt(w.b, int64(s.Mode), 10)
			w.key(",", "section")
			w.oid(s.ID)
			w.raw("}}")
			idx++
		}
	}
	w.raw("]}}")
	return w.b
}

// derivedID is an ObjectId-like id of something the trip's composite entry names (its confirmed
// trip, its locations): created when the trip was, the rest derived from the trip id and what.
func (t *Trip) derivedID(what string) string {
	sum := sha256.Sum256([]byte(t.ID + "|" + what))
	return t.ID[:8] + hex.EncodeToString(sum[:8])
}
