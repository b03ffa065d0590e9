package devserver

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// renderer writes the JSON of one user's trips and entries for one request. For a generated user
// it rebuilds trips day by day, keeping the last day built.
type renderer struct {
	u       *user
	day     int
	trips   []tripgen.Trip
	scratch []byte
}

func newRenderer(u *user) *renderer { return &renderer{u: u, day: -1} }

func (r *renderer) genTrip(day, idx int) *tripgen.Trip {
	if r.day != day {
		r.trips, r.day = r.u.gen.Day(r.u.genUser, day), day
	}
	return &r.trips[idx]
}

// appendTrip appends the trip's FeatureCollection.
func (r *renderer) appendTrip(dst []byte, t *tripRecord) []byte {
	if t.raw != nil {
		return r.u.remapBytes(dst, t.raw)
	}
	r.scratch = r.genTrip(t.genDay, t.genIdx).AppendGeoJSON(r.scratch[:0])
	return r.u.remapBytes(dst, r.scratch)
}

// appendTripEntry appends the trip as a find_entries entry of key (analysis/cleaned_trip or
// analysis/confirmed_trip): the trip's properties as data, metadata written at the trip's write
// time. A confirmed trip's _id is its own and data.cleaned_trip is the timeline id, as on servers
// since 2021; a cleaned trip's _id is the timeline id.
func (r *renderer) appendTripEntry(dst []byte, t *tripRecord, key string) []byte {
	id := t.id
	if key == openpath.KeyConfirmedTrip {
		id = derivedID(t.id+"|confirmed", t.writeTS)
	}
	dst = append(dst, `{"_id":{"$oid":"`...)
	dst = append(dst, id...)
	dst = append(dst, `"},"user_id":{"$uuid":"`...)
	dst = append(dst, r.u.uuid...)
	dst = append(dst, `"},"metadata":`...)
	wt := openpath.TimeOf(t.writeTS).In(t.loc)
	meta, _ := json.Marshal(openpath.Metadata{
		Key: key, Platform: "server", WriteTS: t.writeTS, TimeZone: t.loc.String(),
		WriteLocalDt: openpath.NewLocalDate(wt), WriteFmtTime: openpath.FormatTime(wt),
	})
	dst = append(dst, meta...)
	dst = append(dst, `,"data":`...)
	var props []byte
	if t.raw != nil {
		props = t.props
	} else {
		r.scratch = r.genTrip(t.genDay, t.genIdx).AppendProperties(r.scratch[:0])
		props = r.scratch
	}
	start := len(dst)
	dst = r.u.remapBytes(dst, props)
	if key == openpath.KeyConfirmedTrip {
		data := dst[start:]
		var extra []byte
		if !gjson.GetBytes(data, "cleaned_trip").Exists() {
			extra = append(extra, `"cleaned_trip":{"$oid":"`...)
			extra = append(extra, t.id...)
			extra = append(extra, `"}`...)
		}
		if !gjson.GetBytes(data, "user_input").Exists() {
			if len(extra) > 0 {
				extra = append(extra, ',')
			}
			extra = append(extra, `"user_input":{}`...)
		}
		if len(extra) > 0 {
			dst = dst[:len(dst)-1] // the closing brace
			if hasFields(data) {
				dst = append(dst, ',')
			}
			dst = append(dst, extra...)
			dst = append(dst, '}')
		}
	}
	return append(dst, '}')
}

// appendComposite appends a generated trip's analysis/composite_trip entry, with the ids and write
// time of the current pipeline generation.
func (r *renderer) appendComposite(dst []byte, t *tripRecord) []byte {
	if r.u.generation == 0 { // nothing to remap: straight into the answer
		return r.genTrip(t.genDay, t.genIdx).AppendCompositeEntry(dst, r.u.uuid, t.writeTS)
	}
	r.scratch = r.genTrip(t.genDay, t.genIdx).AppendCompositeEntry(r.scratch[:0], r.u.uuid, t.writeTS)
	return r.u.remapBytes(dst, r.scratch)
}

// appendEntry appends a stored entry: as given, or rewritten by the pipeline resets.
func (r *renderer) appendEntry(dst []byte, e *entryRecord) []byte {
	if e.raw == nil { // a generated label
		t := r.genTrip(e.genDay, e.genTrip)
		return t.Labels[e.genLabel].AppendEntryJSON(dst, r.u.uuid, r.u.gen.Location())
	}
	if !e.pipeline || r.u.generation == 0 {
		return append(dst, e.raw...)
	}
	start := len(dst)
	dst = r.u.remapBytes(dst, e.raw)
	w := gjson.GetBytes(dst[start:], "metadata.write_ts")
	if w.Index <= 0 {
		return dst
	}
	// Splice the new write time in place of the old one.
	at := start + w.Index
	tail := append([]byte(nil), dst[at+len(w.Raw):]...)
	dst = strconv.AppendFloat(dst[:at], e.writeTS, 'f', -1, 64)
	return append(dst, tail...)
}

// remapBytes appends src with every ObjectId (a JSON string of 24 hex digits) replaced by the id the
// current pipeline generation gives it; unchanged before any reset.
func (u *user) remapBytes(dst, src []byte) []byte {
	if u.generation == 0 {
		return append(dst, src...)
	}
	last := 0
	for i := 0; i+25 < len(src); i++ {
		if src[i] != '"' || src[i+25] != '"' || !allHex(src[i+1:i+25]) {
			continue
		}
		dst = append(dst, src[last:i+1]...)
		dst = append(dst, u.remapID(string(src[i+1:i+25]))...)
		last = i + 25
		i += 25
	}
	return append(dst, src[last:]...)
}

func allHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// hasFields reports whether the JSON object obj has at least one field.
func hasFields(obj []byte) bool {
	any := false
	gjson.ParseBytes(obj).ForEach(func(_, _ gjson.Result) bool { any = true; return false })
	return any
}
