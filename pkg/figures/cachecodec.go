package figures

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// A month of the figures cache is stored as {"codec": N, "b": "<base64>"}: its trips in a compact
// binary form, which a report decodes ten times faster than the same trips as JSON objects
// (decoding the months was most of a report's time). A month is two documents: the figures of its
// trips (codecFigures), all a report reads, and their facts (codecFacts), which only computing the
// figures again reads. The form, little-endian, varints as encoding/binary's:
//
//	uvarint count of strings, then each: uvarint length, bytes    (ids, devices, dates, titles, modes...)
//	uvarint count of trips, in id order, then each: uvarint string number of the id, then
//	  figures (codecFigures):
//	    uvarint string numbers: device, local start, local end, title, manual title, purpose
//	    byte flags: 1 recurring, 2 not a trip
//	    float64 bits: total CO2, start timestamp, total duration, total calories
//	    uvarint count of sections, then each: uvarint string number of the mode, float64 bits:
//	    distance, duration, calories
//	  facts (codecFacts):
//	    uvarint string numbers: revision, inputs, trip hash, device, local start, start place,
//	    end place
//	    byte flags: 1 has ends, 2 has facts (when 0, nothing of the facts follows)
//	    float64 bits: start timestamp, start lon, lat, end lon, lat
//	    the phone's mode label, then its purpose label: byte 0 (none), or 1 and a string number
//	    uvarint length, bytes: the manual corrections (JSON as stored; 0 for none)
//	    uvarint count of sections, then each: uvarint string numbers: id, sensed mode, start date,
//	    end date; float64 bits: distance, duration
//
// Floats are stored as their bits: the cache gives back exactly what was computed.
const (
	codecFigures = 1
	// 3 held both, in one document: the connector's inbox, before it fed the cache itself.
	codecFacts = 4
)

// monthJSON is a month document as stored.
type monthJSON struct {
	Codec int    `json:"codec"`
	B     []byte `json:"b"` // base64 in JSON
}

// figuresDoc and factsDoc are a month's two documents in the cache.
type (
	figuresDoc struct{ m *cacheMonth }
	factsDoc   struct{ m *cacheMonth }
)

func (d figuresDoc) MarshalJSON() ([]byte, error) { return encodeMonth(d.m, codecFigures) }
func (d factsDoc) MarshalJSON() ([]byte, error)   { return encodeMonth(d.m, codecFacts) }

// UnmarshalJSON decodes a month document of any form into m, adding to the trips it holds: a
// month's figures and facts documents decoded one after the other join.
func (m *cacheMonth) UnmarshalJSON(raw []byte) error {
	if m.Trips == nil {
		m.Trips = map[string]entry{}
	}
	return decodeMonth(raw, func(codec int) bool { return true }, func(id string, c *Cached, f *entryFacts) {
		e := m.Trips[id]
		if c != nil {
			e.Cached, e.figured = *c, true
		}
		if f != nil {
			e.entryFacts = *f
		}
		m.Trips[id] = e
	})
}

// encoder writes the binary form.
type encoder struct {
	strs  []string
	index map[string]uint64
	body  []byte
}

func (e *encoder) str(s string) {
	i, ok := e.index[s]
	if !ok {
		i = uint64(len(e.strs))
		e.index[s] = i
		e.strs = append(e.strs, s)
	}
	e.body = binary.AppendUvarint(e.body, i)
}

func (e *encoder) f64(v float64) {
	e.body = binary.LittleEndian.AppendUint64(e.body, math.Float64bits(v))
}

func (e *encoder) bytes(b []byte) {
	e.body = binary.AppendUvarint(e.body, uint64(len(b)))
	e.body = append(e.body, b...)
}

func encodeMonth(m *cacheMonth, codec int) ([]byte, error) {
	ids := slices.Sorted(maps.Keys(m.Trips))
	e := &encoder{index: map[string]uint64{}}
	// About what a trip takes, so that the body seldom grows.
	perTrip := 80
	if codec == codecFacts {
		perTrip = 160
	}
	e.body = make([]byte, 0, 16+perTrip*len(ids))
	e.body = binary.AppendUvarint(e.body, uint64(len(ids)))
	for _, id := range ids {
		t := m.Trips[id]
		e.str(id)
		if codec == codecFigures {
			e.figures(&t.Cached)
		}
		if codec == codecFacts {
			e.facts(&t.entryFacts)
		}
	}
	size := binary.MaxVarintLen64 * (1 + len(e.strs))
	for _, s := range e.strs {
		size += len(s)
	}
	bin := make([]byte, 0, size+len(e.body))
	bin = binary.AppendUvarint(bin, uint64(len(e.strs)))
	for _, s := range e.strs {
		bin = binary.AppendUvarint(bin, uint64(len(s)))
		bin = append(bin, s...)
	}
	bin = append(bin, e.body...)
	// As encoding/json writes monthJSON, in one buffer of the right size.
	out := make([]byte, 0, 24+base64.StdEncoding.EncodedLen(len(bin)))
	out = append(out, `{"codec":`...)
	out = strconv.AppendInt(out, int64(codec), 10)
	out = append(out, `,"b":"`...)
	out = base64.StdEncoding.AppendEncode(out, bin)
	return append(out, `"}`...), nil
}

func (e *encoder) figures(c *Cached) {
	for _, s := range []string{c.Device, c.LocalStart, c.LocalEnd, c.Title, c.ManualTitle, string(c.Purpose)} {
		e.str(s)
	}
	var flags byte
	if c.Recurring {
		flags |= 1
	}
	if c.NotATrip {
		flags |= 2
	}
	e.body = append(e.body, flags)
	e.f64(c.TotalCO2)
	e.f64(c.StartTS)
	e.f64(c.TotalDuration)
	e.f64(c.TotalCalories)
	e.body = binary.AppendUvarint(e.body, uint64(len(c.Sections)))
	for _, s := range c.Sections {
		e.str(string(s.Mode))
		e.f64(s.Distance)
		e.f64(s.Duration)
		e.f64(s.Calories)
	}
}

func (e *encoder) facts(t *entryFacts) {
	f := t.facts
	if f == nil {
		f = &Facts{}
	}
	for _, s := range []string{t.rev, t.inputs, f.Trip, f.Device, f.LocalStart, f.StartPlace, f.EndPlace} {
		e.str(s)
	}
	var flags byte
	if f.HasEnds {
		flags |= 1
	}
	if t.facts != nil {
		flags |= 2
	}
	e.body = append(e.body, flags)
	if t.facts == nil {
		return
	}
	for _, v := range []float64{f.StartTS, f.Start.Lon, f.Start.Lat, f.End.Lon, f.End.Lat} {
		e.f64(v)
	}
	for _, l := range []*string{f.ModeLabel, f.PurposeLabel} {
		if l == nil {
			e.body = append(e.body, 0)
			continue
		}
		e.body = append(e.body, 1)
		e.str(*l)
	}
	e.bytes(f.Manual)
	e.body = binary.AppendUvarint(e.body, uint64(len(f.Sections)))
	for _, s := range f.Sections {
		e.str(s.ID)
		e.str(s.SensedMode)
		e.str(s.StartDate)
		e.str(s.EndDate)
		e.f64(s.Distance)
		e.f64(s.Duration)
	}
}

// decodeFigures decodes a figures document into its trips' figures, in id order: a report's read.
func decodeFigures(raw []byte) ([]string, []Cached, error) {
	var ids []string
	var trips []Cached
	err := decodeMonth(raw, func(codec int) bool { return codec == codecFigures }, func(id string, c *Cached, _ *entryFacts) {
		ids = append(ids, id)
		trips = append(trips, *c)
	})
	return ids, trips, err
}

// decodeMonth decodes a month document, calling each with each trip's figures and facts (nil when
// the form has none), in id order. accept says which forms are wanted.
func decodeMonth(raw []byte, accept func(codec int) bool, each func(id string, c *Cached, f *entryFacts)) error {
	// The store's client has checked the document is valid JSON: read its two members without
	// another pass of encoding/json over the long string (most of a report's time).
	codec := int(gjson.GetBytes(raw, "codec").Int())
	if codec != codecFigures && codec != codecFacts || !accept(codec) {
		return fmt.Errorf("%w: form %d", errBadMonth, codec)
	}
	b64, ok := base64Member(raw)
	if !ok {
		return errBadMonth
	}
	bin := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	nb, err := base64.StdEncoding.Decode(bin, b64)
	if err != nil {
		return errBadMonth
	}
	d := decoder{b: bin[:nb]}
	ns := d.uvarint()
	if ns > uint64(len(d.b)) { // each string takes a byte at least: a count above is damage
		return errBadMonth
	}
	d.strs = make([]string, ns)
	for i := range d.strs {
		n := d.uvarint()
		d.strs[i] = string(d.bytes(n))
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errBadMonth
	}
	var c Cached
	var f entryFacts
	for range n {
		id := d.str()
		var cp *Cached
		var fp *entryFacts
		if codec == codecFigures {
			c = Cached{}
			d.figures(&c)
			cp = &c
		}
		if codec == codecFacts {
			f = entryFacts{}
			d.facts(&f)
			fp = &f
		}
		if d.err != nil {
			return d.err
		}
		each(id, cp, fp)
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) > 0 {
		return errBadMonth
	}
	return nil
}

func (d *decoder) figures(c *Cached) {
	c.Device, c.LocalStart, c.LocalEnd, c.Title, c.ManualTitle = d.str(), d.str(), d.str(), d.str(), d.str()
	c.Purpose = trip.Purpose(d.str())
	flags := d.byte()
	c.Recurring, c.NotATrip = flags&1 != 0, flags&2 != 0
	c.TotalCO2, c.StartTS, c.TotalDuration, c.TotalCalories = d.f64(), d.f64(), d.f64(), d.f64()
	ns := d.count()
	if ns > 0 {
		c.Sections = make([]CachedSection, ns)
	}
	for j := range c.Sections {
		s := &c.Sections[j]
		s.Mode = trip.Mode(d.str())
		s.Distance, s.Duration, s.Calories = d.f64(), d.f64(), d.f64()
	}
}

func (d *decoder) facts(t *entryFacts) {
	f := &Facts{}
	t.rev, t.inputs = d.str(), d.str()
	f.Trip, f.Device, f.LocalStart, f.StartPlace, f.EndPlace = d.str(), d.str(), d.str(), d.str(), d.str()
	flags := d.byte()
	if flags&2 == 0 {
		return
	}
	f.HasEnds = flags&1 != 0
	f.StartTS, f.Start.Lon, f.Start.Lat, f.End.Lon, f.End.Lat = d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
	for _, l := range []**string{&f.ModeLabel, &f.PurposeLabel} {
		if d.byte() == 1 {
			v := d.str()
			*l = &v
		}
	}
	if manual := d.bytes(d.uvarint()); len(manual) > 0 {
		f.Manual = json.RawMessage(slices.Clone(manual))
	}
	ns := d.count()
	if ns > 0 {
		f.Sections = make([]FactSection, ns)
	}
	for j := range f.Sections {
		s := &f.Sections[j]
		s.ID, s.SensedMode, s.StartDate, s.EndDate = d.str(), d.str(), d.str(), d.str()
		s.Distance, s.Duration = d.f64(), d.f64()
	}
	if d.err == nil {
		t.facts = f
	}
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
	b    []byte
	strs []string
	err  error
}

// str reads a string number.
func (d *decoder) str() string {
	i := d.uvarint()
	if i >= uint64(len(d.strs)) {
		d.fail()
		return ""
	}
	return d.strs[i]
}

// count reads a count of items that take a byte each at least.
func (d *decoder) count() uint64 {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return n
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
