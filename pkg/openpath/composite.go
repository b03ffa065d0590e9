package openpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/jsonscan"
)

// The FeatureCollection of a composite trip is written directly, byte by byte, exactly as
// encoding/json would write it from maps (keys sorted, HTML characters escaped, the place and
// section data as json.Unmarshal into any and back would give it): the series' hash
// (trip.ServerInfo.Hash) tells a sync whether the server changed a trip, so the bytes must not
// change with the way they are made. Going through maps and encoding/json took most of a sync's
// conversion time; TestCompositeMatchesReference holds the two ways to the same bytes.

// CompositeToFeatureCollection turns an analysis/composite_trip entry into a trip
// FeatureCollection and returns it with the trip's id.
func CompositeToFeatureCollection(entry []byte) ([]byte, string, error) {
	fc, id, _, err := compositeToFeatureCollection(entry, false)
	return fc, id, err
}

// compositeToFeatureCollection is CompositeToFeatureCollection for an entry that, when validated,
// gjson.ValidBytes has accepted already. It also returns the properties object of the
// FeatureCollection, a sub-slice of it.
func compositeToFeatureCollection(entry []byte, validated bool) (fc []byte, id string, props []byte, err error) {
	if !validated && !gjson.ValidBytes(entry) {
		return nil, "", nil, invalid("composite trip entry: not JSON")
	}
	// One pass over the entry: its members are read where they are, the locations (most of its
	// bytes) point by point, and what is not needed is skipped. Small values are read with gjson,
	// from a string that they are views of: nothing returned may keep one.
	text := string(entry)
	f, members, b := compositeFields{}, []member(nil), &fcWriter{}
	at := jsonscan.SkipSpace(text, 0)
	switch {
	case text[at] == '{':
		f.read(text, at, b, &members)
	case gjson.Parse(text).Type != gjson.Null:
		return nil, "", nil, invalid("composite trip entry: not an object")
	}
	var entryID oid
	if err := entryID.read(f.id); err != nil {
		return nil, "", nil, invalid("composite trip entry: _id: %v", err)
	}
	if f.data.Exists() && !f.data.IsObject() && f.data.Type != gjson.Null {
		return nil, "", nil, invalid("composite trip %s: data is not an object", entryID)
	}
	var confirmed oid
	if err := confirmed.read(f.confirmedTrip); err != nil {
		return nil, "", nil, invalid("composite trip %s: confirmed_trip: %v", entryID, err)
	}
	for _, t := range []struct {
		name string
		v    gjson.Result
	}{{"start_ts", f.startTS}, {"end_ts", f.endTS}} {
		if t.v.Exists() && t.v.Type != gjson.Number && t.v.Type != gjson.Null {
			return nil, "", nil, invalid("composite trip %s: %s is not a number", entryID, t.name)
		}
	}
	for _, l := range []struct {
		name string
		v    gjson.Result
	}{{"sections", f.sections}, {"locations", f.locations}} {
		if l.v.Exists() && !l.v.IsArray() && l.v.Type != gjson.Null {
			return nil, "", nil, invalid("composite trip %s: %s is not a list", entryID, l.name)
		}
	}
	if f.startTS.Type != gjson.Number || f.endTS.Type != gjson.Number {
		return nil, "", nil, invalid("composite trip %s has no start_ts or end_ts", entryID)
	}
	members = append(members, b.rawMember("feature_type", `"trip"`))
	id = strings.Clone(string(entryID)) // not a view of text
	if confirmed != "" {
		id = strings.Clone(string(confirmed))
	}

	points := f.points
	out := make([]byte, 0, len(entry)+len(entry)/4)
	out = append(out, `{"features":[`...)
	out = b.placeFeature(out, "start_place", f.startLoc, f.startPlace)
	out = append(out, ',')
	out = b.placeFeature(out, "end_place", f.endLoc, f.endPlace)
	i := 0
	sections := f.sections
	if !sections.IsArray() {
		sections = gjson.Result{} // null: gjson's ForEach would hand it over as a section
	}
	sections.ForEach(func(_, sec gjson.Result) bool {
		out = append(out, `,{"features":[`...)
		if out, err = b.sectionFeature(out, sec, points); err != nil {
			err = invalid("composite trip %s, section %d: %v", id, i, err)
			return false
		}
		out = append(out, `],"type":"FeatureCollection"}`...)
		i++
		return true
	})
	if err != nil {
		return nil, "", nil, err
	}
	out = append(out, `],"id":`...)
	out = appendString(out, id)
	out = append(out, `,"properties":`...)
	propsAt := len(out)
	out = b.appendObject(out, members)
	props = out[propsAt:len(out):len(out)]
	out = append(out, `,"type":"FeatureCollection"}`...)
	if b.err != nil {
		return nil, "", nil, invalid("composite trip %s: %v", id, b.err)
	}
	return out, id, props, nil
}

// location is a point of a composite trip's locations.
type location struct {
	coords          string // the JSON array
	ts              float64
	speed, distance float64
}

// compositeFields are the members of a composite trip entry the conversion reads: the first of
// their name, as gjson's Get finds them.
type compositeFields struct {
	id, data                                              gjson.Result
	confirmedTrip, startLoc, endLoc, startPlace, endPlace gjson.Result
	startTS, endTS, sections, locations                   gjson.Result
	// points are the locations' points (see readPoints), when locations is a list.
	points []location
}

// read reads the entry object at text[at]: its _id and data, and data's members, the properties
// (every member but the places, sections and locations; the last of a name winning, as in a map)
// written into b's arena.
func (f *compositeFields) read(text string, at int, b *fcWriter, props *[]member) {
	jsonscan.Members(text, at, func(k string, v int) int {
		switch name := key(k); {
		case name == "_id" && !f.id.Exists():
			end := jsonscan.End(text, v)
			f.id = gjson.Parse(text[v:end])
			return end
		case name == "data" && !f.data.Exists():
			end := 0
			if text[v] == '{' {
				end = f.readData(text, v, b, props)
			} else {
				end = jsonscan.End(text, v)
			}
			f.data = gjson.Parse(text[v:end])
			return end
		}
		return jsonscan.End(text, v)
	})
}

// readData reads the members of the entry's data object at text[at] and returns its end.
func (f *compositeFields) readData(text string, at int, b *fcWriter, props *[]member) int {
	return jsonscan.Members(text, at, func(k string, v int) int {
		name := key(k)
		var r *gjson.Result
		prop := true
		switch name {
		case "confirmed_trip":
			r = &f.confirmedTrip
		case "start_loc":
			r = &f.startLoc
		case "end_loc":
			r = &f.endLoc
		case "start_ts":
			r = &f.startTS
		case "end_ts":
			r = &f.endTS
		case "start_confirmed_place":
			r, prop = &f.startPlace, false
		case "end_confirmed_place":
			r, prop = &f.endPlace, false
		case "sections":
			r, prop = &f.sections, false
		case "locations":
			r, prop = &f.locations, false
		}
		var end int
		if r == &f.locations && !r.Exists() && text[v] == '[' {
			end = f.readPoints(text, v)
		} else {
			end = jsonscan.End(text, v)
		}
		if r != nil && !r.Exists() {
			*r = gjson.Parse(text[v:end])
		}
		if prop {
			*props = append(*props, b.rawMember(name, text[v:end]))
		}
		return end
	})
}

// readPoints reads the points of a composite trip's locations, the list at text[at], and returns
// its end: the locations with data.loc.coordinates (an array) and data.ts, read as gjson reads
// them.
func (f *compositeFields) readPoints(text string, at int) int {
	return jsonscan.Elements(text, at, func(e int) int {
		if text[e] != '{' {
			return jsonscan.End(text, e)
		}
		seenData := false
		return jsonscan.Members(text, e, func(k string, v int) int {
			if seenData || key(k) != "data" {
				return jsonscan.End(text, v)
			}
			seenData = true
			if text[v] != '{' {
				return jsonscan.End(text, v)
			}
			var loc, ts, speed, distance gjson.Result
			end := jsonscan.Members(text, v, func(k string, v int) int {
				end := jsonscan.End(text, v)
				var r *gjson.Result
				switch key(k) {
				case "loc":
					// As gjson's path "loc.coordinates" reads it: the first "loc" that has them.
					if !loc.Get("coordinates").Exists() {
						loc = gjson.Parse(text[v:end])
					}
					return end
				case "ts":
					r = &ts
				case "speed":
					r = &speed
				case "distance":
					r = &distance
				default:
					return end
				}
				if !r.Exists() {
					*r = gjson.Parse(text[v:end])
				}
				return end
			})
			if coords := loc.Get("coordinates"); coords.IsArray() && ts.Exists() {
				f.points = append(f.points, location{coords: coords.Raw, ts: ts.Float(), speed: speed.Float(), distance: distance.Float()})
			}
			return end
		})
	})
}

// key returns the name of a member whose key is raw (quotes included), as gjson's ForEach gives
// it (Str).
func key(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	return gjson.Parse(raw).Str
}

// fcWriter writes the parts of a FeatureCollection. Members' values are encoded into one arena;
// the first error (a number encoding/json cannot write) is kept in err.
type fcWriter struct {
	arena []byte
	err   error
}

// member is an object member whose value is encoded in the writer's arena at [start, end).
type member struct {
	key        string
	start, end int
}

// rawMember is a member whose value is raw JSON, written as encoding/json writes a json.RawMessage.
func (b *fcWriter) rawMember(key string, raw string) member {
	start := len(b.arena)
	b.arena = appendCompact(b.arena, raw)
	return member{key, start, len(b.arena)}
}

// member adds a member whose value append writes.
func (b *fcWriter) member(key string, write func([]byte) []byte) member {
	start := len(b.arena)
	b.arena = write(b.arena)
	return member{key, start, len(b.arena)}
}

// appendObject writes members as encoding/json writes a map: sorted by key, the last of a key
// winning.
func (b *fcWriter) appendObject(dst []byte, ms []member) []byte {
	slices.SortStableFunc(ms, func(x, y member) int { return strings.Compare(x.key, y.key) })
	dst = append(dst, '{')
	sep := false
	for i, m := range ms {
		if i+1 < len(ms) && ms[i+1].key == m.key {
			continue // a later one of the same key wins
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, b.arena[m.start:m.end]...)
	}
	return append(dst, '}')
}

// placeFeature writes a start or end place as a Feature: its location as geometry, the confirmed
// place's data (but its location) as properties. A place json.Unmarshal would refuse adds no
// properties.
func (b *fcWriter) placeFeature(dst []byte, kind string, loc, place gjson.Result) []byte {
	dst = append(dst, `{"geometry":`...)
	if loc.Exists() {
		dst = appendCompact(dst, loc.Raw)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"properties":`...)
	if place.IsObject() && !simplePlace(place) {
		// Member names that json.Unmarshal reads its own way (escapes, other cases): let it.
		return append(append(dst, b.placePropsSlow(kind, place)...), `,"type":"Feature"}`...)
	}
	mark := len(b.arena)
	ms := []member{b.member("feature_type", func(a []byte) []byte { return appendString(a, kind) })}
	if more, ok := b.placeData(place); ok {
		ms = append(ms, more...)
	}
	dst = b.appendObject(dst, ms)
	b.arena = b.arena[:mark]
	return append(dst, `,"type":"Feature"}`...)
}

// simplePlace reports whether place's members are named plainly enough for placeData to read them
// as json.Unmarshal into {_id, data} does: no escapes, no other case of "_id" or "data", each once.
func simplePlace(place gjson.Result) bool {
	ok, seenID, seenData := true, false, false
	place.ForEach(func(k, _ gjson.Result) bool {
		switch {
		case strings.IndexByte(k.Raw, '\\') >= 0:
			ok = false
		case k.Str == "_id":
			ok, seenID = !seenID, true
		case k.Str == "data":
			ok, seenData = !seenData, true
		case strings.EqualFold(k.Str, "_id") || strings.EqualFold(k.Str, "data"):
			ok = false
		}
		return ok
	})
	return ok
}

// placeData returns the members of a confirmed place's data but its location, as json.Unmarshal
// into {_id oid, data map[string]any} and back would write them, for a place whose member names
// are simple (see simplePlace). ok is false when json.Unmarshal would fail: the place then adds
// nothing.
func (b *fcWriter) placeData(place gjson.Result) ([]member, bool) {
	if !place.Exists() || place.Type == gjson.Null {
		return nil, true
	}
	if !place.IsObject() {
		return nil, false
	}
	var idField, data gjson.Result
	place.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "_id":
			idField = v
		case "data":
			data = v
		}
		return true
	})
	var id oid
	if idField.Exists() && id.read(idField) != nil {
		return nil, false
	}
	if data.Exists() && !data.IsObject() && data.Type != gjson.Null {
		return nil, false
	}
	return b.members(data, "location")
}

// members writes the members of the object data, but skip (none when ""), into the arena, and
// returns them;
// ok is false when one of them is not written as encoding/json would.
func (b *fcWriter) members(data gjson.Result, skip string) (ms []member, ok bool) {
	ok = true
	data.ForEach(func(k, v gjson.Result) bool {
		key, kok := jsonKey(k)
		if !kok {
			ok = false
			return false
		}
		start := len(b.arena)
		var vok bool
		if b.arena, vok = appendAny(b.arena, v); !vok {
			ok = false
			return false
		}
		if skip == "" || key != skip {
			ms = append(ms, member{key, start, len(b.arena)})
		}
		return true
	})
	if !ok {
		return nil, false
	}
	return ms, true
}

// placePropsSlow writes a place's properties through encoding/json, as they were first written.
func (b *fcWriter) placePropsSlow(kind string, place gjson.Result) []byte {
	props := map[string]any{"feature_type": kind}
	var p struct {
		ID   oid            `json:"_id"`
		Data map[string]any `json:"data"`
	}
	if json.Unmarshal([]byte(place.Raw), &p) == nil {
		for k, v := range p.Data {
			if k != "location" {
				props[k] = v
			}
		}
	}
	out, err := json.Marshal(props)
	if err != nil && b.err == nil {
		b.err = err
	}
	return out
}

// sectionFeature writes a section as a LineString Feature: the section's data as properties, its
// sensed mode by name, and the trip's points within its time span as coordinates with per-point
// times, timestamps (ms), speeds and distances.
func (b *fcWriter) sectionFeature(dst []byte, entry gjson.Result, points []location) ([]byte, error) {
	data := entry.Get("data")
	if !data.IsObject() {
		return dst, errors.New("no data")
	}
	mark := len(b.arena)
	defer func() { b.arena = b.arena[:mark] }()
	ms, ok := b.members(data, "")
	if !ok {
		var props map[string]any // json.Unmarshal says what it cannot read
		if err := json.Unmarshal([]byte(data.Raw), &props); err != nil {
			return dst, err
		}
		return dst, errors.New("section data that encoding/json reads differently")
	}
	start, end := data.Get("start_ts").Float(), data.Get("end_ts").Float()
	modeName := data.Get("sensed_mode_str").String()
	prefix, known := sensedModePrefixes[entry.Get("metadata.key").String()]
	if !known {
		prefix = "MotionTypes."
	}
	if modeName == "" {
		modeName = motionTypeNames[int(data.Get("sensed_mode").Int())]
		if prefix == "PredictedModeTypes." {
			modeName = predictedModeNames[int(data.Get("sensed_mode").Int())]
		}
	}
	ms = append(ms,
		b.member("sensed_mode", func(a []byte) []byte { return appendString(a, prefix+modeName) }),
		b.member("feature_type", func(a []byte) []byte { return append(a, `"section"`...) }))

	var inSpan []location
	for _, p := range points {
		if p.ts < start || p.ts > end {
			continue
		}
		inSpan = append(inSpan, p)
	}
	var coords []string  // nil is written null: no point and no ends (encoding/json's nil slice)
	if len(inSpan) < 2 { // too few tracked points: draw the section from its ends
		if len(inSpan) == 1 {
			coords = []string{} // as the points' slice cut to none: [] even without ends
		}
		inSpan = nil
		for _, k := range []string{"start_loc.coordinates", "end_loc.coordinates"} {
			if c := data.Get(k); c.IsArray() {
				coords = append(coords, c.Raw)
			}
		}
	} else {
		coords = make([]string, len(inSpan))
		for i, p := range inSpan {
			coords[i] = p.coords
		}
	}
	for _, arr := range []struct {
		name string
		of   func(location) float64
	}{
		{"times", func(p location) float64 { return p.ts }},
		{"timestamps", func(p location) float64 { return math.Round(p.ts * 1000) }},
		{"speeds", func(p location) float64 { return p.speed }},
		{"distances", func(p location) float64 { return p.distance }},
	} {
		ms = append(ms, b.member(arr.name, func(a []byte) []byte {
			a = append(a, '[')
			for i, p := range inSpan {
				if i > 0 {
					a = append(a, ',')
				}
				a = b.appendFloat(a, arr.of(p))
			}
			return append(a, ']')
		}))
	}

	dst = append(dst, `{"geometry":{"coordinates":`...)
	if coords == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, c := range coords {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCompact(dst, c)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"type":"LineString"}`...)
	if id := entry.Get("_id.$oid"); id.Exists() {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, id.String())
	}
	dst = append(dst, `,"properties":`...)
	dst = b.appendObject(dst, ms)
	return append(dst, `,"type":"Feature"}`...), nil
}

// appendFloat writes f as encoding/json writes a float64; it records the error for a NaN or an
// infinity, which encoding/json refuses.
func (b *fcWriter) appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if _, err := json.Marshal(f); err != nil && b.err == nil {
			b.err = err
		}
		return append(dst, '0')
	}
	return appendJSONFloat(dst, f)
}

// appendJSONFloat writes a finite f as encoding/json does (encode.go, floatEncoder).
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendAny writes the valid JSON value r as json.Unmarshal into an any and json.Marshal would
// write it back: numbers as float64, objects with sorted keys, the last of a key winning, strings
// re-escaped. ok is false where json.Unmarshal would fail (a number out of float64's range).
func appendAny(dst []byte, r gjson.Result) (_ []byte, ok bool) {
	switch r.Type {
	case gjson.Null:
		return append(dst, "null"...), true
	case gjson.True:
		return append(dst, "true"...), true
	case gjson.False:
		return append(dst, "false"...), true
	case gjson.Number:
		f, err := strconv.ParseFloat(r.Raw, 64)
		if err != nil {
			return dst, false
		}
		return appendJSONFloat(dst, f), true
	case gjson.String:
		return appendRawString(dst, r.Raw), true
	}
	ok = true
	if r.IsArray() {
		dst = append(dst, '[')
		i := 0
		r.ForEach(func(_, v gjson.Result) bool {
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			dst, ok = appendAny(dst, v)
			return ok
		})
		return append(dst, ']'), ok
	}
	type kv struct {
		key string
		val []byte
	}
	var members []kv
	r.ForEach(func(k, v gjson.Result) bool {
		key, kok := jsonKey(k)
		if !kok {
			ok = false
			return false
		}
		var val []byte
		if val, ok = appendAny(nil, v); !ok {
			return false
		}
		members = append(members, kv{key, val})
		return true
	})
	if !ok {
		return dst, false
	}
	slices.SortStableFunc(members, func(x, y kv) int { return strings.Compare(x.key, y.key) })
	dst = append(dst, '{')
	sep := false
	for i, m := range members {
		if i+1 < len(members) && members[i+1].key == m.key {
			continue
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = appendString(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}'), true
}

// jsonKey is an object key as json.Unmarshal reads it.
func jsonKey(k gjson.Result) (string, bool) {
	if plainString(k.Raw) {
		return k.Raw[1 : len(k.Raw)-1], true
	}
	var s string
	if err := json.Unmarshal([]byte(k.Raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// appendRawString writes the JSON string raw (quotes included) as json.Unmarshal and json.Marshal
// would write it back.
func appendRawString(dst []byte, raw string) []byte {
	if plainString(raw) {
		return append(dst, raw...)
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return append(dst, raw...) // not reached: raw is a valid JSON string
	}
	return appendString(dst, s)
}

// plainString reports whether the quoted JSON string raw reads and writes as itself: printable
// ASCII without escapes or the characters encoding/json escapes for HTML.
func plainString(raw string) bool {
	if len(raw) < 2 {
		return false
	}
	for i := 1; i < len(raw)-1; i++ {
		if c := raw[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendString writes s as json.Marshal writes a string.
func appendString(dst []byte, s string) []byte {
	if plainString(`"` + s + `"`) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	enc, _ := json.Marshal(s)
	return append(dst, enc...)
}

// appendCompact writes the valid JSON raw as json.Marshal writes a json.RawMessage: compacted,
// with the characters unsafe in HTML escaped.
func appendCompact(dst []byte, raw string) []byte {
	if !strings.ContainsAny(raw, " \t\r\n<>&\u2028\u2029") {
		return append(dst, raw...)
	}
	var compact, escaped bytes.Buffer
	if json.Compact(&compact, []byte(raw)) != nil {
		return append(dst, raw...) // not reached: raw is valid JSON
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	return append(dst, escaped.Bytes()...)
}
