package figures

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// A month of the figures cache is stored as {"b": "<base64>"}: its trips in a compact binary
// form, which a report decodes ten times faster than the same trips as JSON objects (decoding the
// months was most of a report's time). The form, little-endian, varints as encoding/binary's:
//
//	uvarint count of strings, then each: uvarint length, bytes    (ids, devices, dates, titles, modes...)
//	uvarint count of trips, in id order, then each:
//	    uvarint string numbers: id, device, local start, local end, title, manual title, purpose,
//	    revision, inputs
//	    byte flags: 1 recurring, 2 not a trip
//	    float64 bits: total CO2, start timestamp, total duration, total calories
//	    uvarint count of sections, then each: uvarint string number of the mode, float64 bits:
//	    distance, duration, calories
//	    uvarint length, bytes: the trip's facts, JSON (read only to compute its figures again)
//
// Floats are stored as their bits: the cache gives back exactly what was computed.

const codecVersion = 3

// monthJSON is a month document as stored.
type monthJSON struct {
	Codec int    `json:"codec"`
	B     []byte `json:"b"` // base64 in JSON
}

// MarshalJSON encodes the month's trips in the binary form.
func (m cacheMonth) MarshalJSON() ([]byte, error) {
	ids := make([]string, 0, len(m.Trips))
	for id := range m.Trips {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var strs []string
	index := map[string]uint64{}
	str := func(s string) uint64 {
		i, ok := index[s]
		if !ok {
			i = uint64(len(strs))
			index[s] = i
			strs = append(strs, s)
		}
		return i
	}
	var body []byte
	f64 := func(v float64) { body = binary.LittleEndian.AppendUint64(body, math.Float64bits(v)) }
	body = binary.AppendUvarint(body, uint64(len(ids)))
	for _, id := range ids {
		c := m.Trips[id]
		for _, s := range []string{id, c.Device, c.LocalStart, c.LocalEnd, c.Title, c.ManualTitle, string(c.Purpose), c.rev, c.inputs} {
			body = binary.AppendUvarint(body, str(s))
		}
		var flags byte
		if c.Recurring {
			flags |= 1
		}
		if c.NotATrip {
			flags |= 2
		}
		body = append(body, flags)
		f64(c.TotalCO2)
		f64(c.StartTS)
		f64(c.TotalDuration)
		f64(c.TotalCalories)
		body = binary.AppendUvarint(body, uint64(len(c.Sections)))
		for _, s := range c.Sections {
			body = binary.AppendUvarint(body, str(string(s.Mode)))
			f64(s.Distance)
			f64(s.Duration)
			f64(s.Calories)
		}
		body = binary.AppendUvarint(body, uint64(len(c.facts)))
		body = append(body, c.facts...)
	}
	var head []byte
	head = binary.AppendUvarint(head, uint64(len(strs)))
	for _, s := range strs {
		head = binary.AppendUvarint(head, uint64(len(s)))
		head = append(head, s...)
	}
	return json.Marshal(monthJSON{Codec: codecVersion, B: append(head, body...)})
}

// UnmarshalJSON decodes a month written by MarshalJSON.
func (m *cacheMonth) UnmarshalJSON(raw []byte) error {
	var facts [][]byte
	var revs [][2]string
	ids, trips, err := decodeMonth(raw, &facts, &revs)
	if err != nil {
		return err
	}
	m.Trips = make(map[string]entry, len(ids))
	for i, id := range ids {
		m.Trips[id] = entry{Cached: trips[i], rev: revs[i][0], inputs: revs[i][1], facts: facts[i]}
	}
	return nil
}

// decodeMonth decodes a month document into its trips, in id order, and their facts into facts
// when it is not nil (reports do not read them).
func decodeMonth(raw []byte, facts *[][]byte, revs *[][2]string) ([]string, []Cached, error) {
	// The store's client has checked the document is valid JSON: read its two members without
	// another pass of encoding/json over the long string (most of a report's time).
	if codec := gjson.GetBytes(raw, "codec").Int(); codec != codecVersion {
		return nil, nil, fmt.Errorf("%w: form %d, want %d", errBadMonth, codec, codecVersion)
	}
	b64, ok := base64Member(raw)
	if !ok {
		return nil, nil, errBadMonth
	}
	bin := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	nb, err := base64.StdEncoding.Decode(bin, b64)
	if err != nil {
		return nil, nil, errBadMonth
	}
	bin = bin[:nb]
	d := decoder{b: bin}
	ns := d.uvarint()
	if ns > uint64(len(d.b)) { // each string takes a byte at least: a count above is damage
		return nil, nil, errBadMonth
	}
	strs := make([]string, ns)
	for i := range strs {
		n := d.uvarint()
		strs[i] = string(d.bytes(n))
	}
	str := func() string {
		i := d.uvarint()
		if i >= uint64(len(strs)) {
			d.err = errBadMonth
			return ""
		}
		return strs[i]
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, nil, errBadMonth
	}
	ids := make([]string, n)
	trips := make([]Cached, n)
	if facts != nil {
		*facts = make([][]byte, n)
		*revs = make([][2]string, n)
	}
	for i := range trips {
		c := &trips[i]
		ids[i] = str()
		c.Device, c.LocalStart, c.LocalEnd, c.Title, c.ManualTitle = str(), str(), str(), str(), str()
		c.Purpose = trip.Purpose(str())
		rev, inputs := str(), str()
		flags := d.byte()
		c.Recurring, c.NotATrip = flags&1 != 0, flags&2 != 0
		c.TotalCO2, c.StartTS, c.TotalDuration, c.TotalCalories = d.f64(), d.f64(), d.f64(), d.f64()
		ns := d.uvarint()
		if ns > uint64(len(d.b)) {
			return nil, nil, errBadMonth
		}
		c.Sections = make([]CachedSection, ns)
		for j := range c.Sections {
			s := &c.Sections[j]
			s.Mode = trip.Mode(str())
			s.Distance, s.Duration, s.Calories = d.f64(), d.f64(), d.f64()
		}
		f := d.bytes(d.uvarint())
		if facts != nil {
			if len(f) > 0 {
				(*facts)[i] = f
			}
			(*revs)[i] = [2]string{rev, inputs}
		}
		if d.err != nil {
			return nil, nil, d.err
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errBadMonth
	}
	return ids, trips, d.err
}

// base64Member returns the string of the month's "b" member. Stores give documents back as
// compact JSON, and base64 needs no escapes, so the string is found by a byte search; a document
// spelled otherwise is read by gjson.
func base64Member(raw []byte) ([]byte, bool) {
	const key = `"b":"`
	if i := bytes.Index(raw, []byte(key)); i >= 0 {
		rest := raw[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
			return rest[:j], true
		}
	}
	b := gjson.GetBytes(raw, "b")
	return []byte(b.Str), b.Type == gjson.String
}

var errBadMonth = errors.New("figures cache month: damaged encoding")

// decoder reads the binary form; the first error sticks and zero values follow it.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); len(b) == 1 {
		return b[0]
	}
	return 0
}

func (d *decoder) f64() float64 {
	if b := d.bytes(8); len(b) == 8 {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBadMonth
	}
	d.b = nil
}
