package openpath

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Faults of an answer, in the client's own words: a parse error never quotes the answer, which may
// echo the request and so the token.
var (
	// errTruncated is an answer that ends in the middle of its JSON.
	errTruncated = fmt.Errorf("the answer ends mid-JSON: %w", io.ErrUnexpectedEOF)
	// errInvalidJSON is an answer that is not JSON.
	errInvalidJSON = errors.New("invalid JSON")
	errEmpty       = errors.New("empty answer")
)

// parseError is an answer that is not the JSON its route promises. Offset is the byte offset in the
// answer at which it stopped making sense. Err's text is the client's own, never the answer's.
type parseError struct {
	Offset int64
	Err    error
}

func (e *parseError) Error() string { return fmt.Sprintf("at byte %d: %v", e.Offset, e.Err) }
func (e *parseError) Unwrap() error { return e.Err }

// offsetOf turns a json decoding error into a parseError with the best offset known. An error that
// is not the JSON's fault (the reader failed) is returned as is, for the caller to classify.
func offsetOf(dec *json.Decoder, err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return err
	}
	off := dec.InputOffset()
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// The syntax error's text quotes a character of the answer: keep only where it is.
		return &parseError{Offset: max(off, se.Offset), Err: errInvalidJSON}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &parseError{Offset: off, Err: errTruncated}
	}
	return err
}

// decodeList reads an answer shaped {"<field>": [object, ...], ...} and calls each with every
// object of the field's list, in order. Each raw value is a sub-slice of the answer, read whole
// into one buffer: the callee may keep it (its capacity ends with it), and keeps the buffer with
// it. Other fields are ignored.
//
// The field must be there, once, as a list of objects: e-mission always answers a list, [] when
// there is nothing. An answer without it ({}, {"error": ...}, null), with null in its place or in
// the list, or with anything else there is a *parseError: reading it as "nothing" would move a
// sync's cursor past data never fetched. If the reader itself fails, its error is returned.
//
// validated reports that the answer is valid JSON, by validList's reckoning, which is
// gjson.ValidBytes's: so is each of its elements, and their conversion need not validate them
// again.
func decodeList(r io.Reader, field string, each func(raw json.RawMessage) error) (validated bool, err error) {
	answer, err := readAnswer(r)
	if err != nil {
		return false, err
	}
	// An answer of the expected shape is validated and cut into its elements in one pass, without
	// a copy; any other is read again by encoding/json's decoder, whose errors say where it went
	// wrong.
	if elements, ok := validList(answer, field); ok {
		for _, e := range elements {
			if err := each(answer[e[0]:e[1]:e[1]]); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	return false, decodeListSlowly(bytes.NewReader(answer), field, each)
}

// readAnswer reads the whole answer, in one allocation when the reader knows its length.
func readAnswer(r io.Reader) ([]byte, error) {
	size := int64(bytes.MinRead)
	if h, ok := r.(interface{ sizeHint() int64 }); ok && h.sizeHint() > 0 {
		size = h.sizeHint() + 1 // +1: room for the read that sees the end
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// decodeListSlowly is decodeList with encoding/json's streaming decoder, for the answers it refuses
// (see decodeList).
func decodeListSlowly(r io.Reader, field string, each func(raw json.RawMessage) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // a number where the answer's object should be is named, even out of float64's range
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return &parseError{Offset: 0, Err: errEmpty}
		}
		return offsetOf(dec, err)
	}
	if tok != json.Delim('{') {
		return &parseError{Offset: dec.InputOffset(), Err: fmt.Errorf("answer is %s, want an object with %q", tokenKind(tok), field)}
	}
	seen := false
	for dec.More() {
		keyStart := dec.InputOffset()
		keyTok, err := dec.Token()
		if err != nil {
			return offsetOf(dec, err)
		}
		key, _ := keyTok.(string)
		if key != field {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return offsetOf(dec, err)
			}
			continue
		}
		if seen {
			return &parseError{Offset: keyStart, Err: fmt.Errorf("%q appears twice", field)}
		}
		seen = true
		if err := decodeArray(dec, field, each); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return offsetOf(dec, err)
	}
	if !seen {
		return &parseError{Offset: dec.InputOffset(), Err: fmt.Errorf("%q is missing", field)}
	}
	return expectEnd(dec)
}

func decodeArray(dec *json.Decoder, field string, each func(raw json.RawMessage) error) error {
	tok, err := dec.Token()
	if err != nil {
		return offsetOf(dec, err)
	}
	if tok != json.Delim('[') {
		return &parseError{Offset: dec.InputOffset(), Err: fmt.Errorf("%q is %s, want a list", field, tokenKind(tok))}
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return offsetOf(dec, err)
		}
		if raw[0] != '{' {
			return &parseError{Offset: dec.InputOffset() - int64(len(raw)), Err: fmt.Errorf("an element of %q is %s, want an object", field, rawKind(raw))}
		}
		if err := each(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return offsetOf(dec, err)
	}
	return nil
}

// expectEnd checks that nothing but white space follows the answer.
func expectEnd(dec *json.Decoder) error {
	_, err := dec.Token()
	if err == io.EOF {
		return nil
	}
	if err == nil {
		return &parseError{Offset: dec.InputOffset(), Err: errors.New("data after the answer")}
	}
	return offsetOf(dec, err)
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "a list"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// rawKind names the kind of a valid JSON value.
func rawKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// decodeTimes reads a small answer object (get_range_ts, get_complete_ts) whose every named field
// must be present, each a number or null (e-mission's None: "nothing yet"). It returns the values
// in the order of names, nil for null. An answer without one of the fields ({}, {"error": ...},
// null) is a *parseError, not "nothing yet".
func decodeTimes(r io.Reader, names ...string) ([]*float64, error) {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return nil, &parseError{Offset: 0, Err: errEmpty}
		}
		return nil, offsetOf(dec, err)
	}
	if err := expectEnd(dec); err != nil {
		return nil, err
	}
	if raw[0] != '{' {
		return nil, &parseError{Offset: 0, Err: fmt.Errorf("answer is %s, want an object with %s", rawKind(raw), strings.Join(names, " and "))}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, &parseError{Offset: 0, Err: errInvalidJSON}
	}
	out := make([]*float64, len(names))
	for i, name := range names {
		v, ok := fields[name]
		switch {
		case !ok:
			return nil, &parseError{Offset: int64(len(raw)), Err: fmt.Errorf("%q is missing", name)}
		case v[0] == 'n':
			continue
		case rawKind(v) != "a number":
			return nil, &parseError{Offset: int64(offsetIn(raw, v)), Err: fmt.Errorf("%q is %s, want a number or null", name, rawKind(v))}
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, &parseError{Offset: int64(offsetIn(raw, v)), Err: fmt.Errorf("%q is out of range", name)}
		}
		out[i] = &f
	}
	return out, nil
}

// offsetIn returns where sub, a value unmarshalled from raw, is in raw; 0 when unknown.
func offsetIn(raw, sub []byte) int {
	if i := bytes.Index(raw, sub); i >= 0 {
		return i
	}
	return 0
}

// str returns a string result as an independent string.
func str(r gjson.Result) string {
	if r.Type != gjson.String {
		return ""
	}
	return strings.Clone(r.Str)
}

// subValue returns the value of a top-level field (a plain name, no gjson syntax) of the JSON object
// raw as a sub-slice of raw.
func subValue(raw []byte, field string) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	r := gjson.GetBytes(raw, field) // a copy of the value: only its position is used
	if !r.Exists() || r.Index <= 0 {
		return nil
	}
	return json.RawMessage(raw[r.Index : r.Index+len(r.Raw) : r.Index+len(r.Raw)])
}

// mongoID reads an id in MongoDB legacy extended JSON ({"$oid": hex}, {"$uuid": hex},
// {"$binary": ...}) or as a plain string, and returns it as a string (hex for binary ids).
func mongoID(r gjson.Result) string {
	switch r.Type {
	case gjson.String:
		return strings.Clone(r.Str)
	case gjson.JSON:
		if !r.IsObject() {
			return ""
		}
		var id string
		r.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "$oid", "$uuid":
				id = strings.ReplaceAll(str(v), "-", "")
			case "$binary":
				b64 := v.Str
				if v.IsObject() {
					b64 = v.Get("base64").Str
				}
				if b, err := base64.StdEncoding.DecodeString(b64); err == nil {
					id = hex.EncodeToString(b)
				}
			default:
				return true
			}
			return false
		})
		return id
	}
	return ""
}

// localDate reads a *_local_dt dict.
func localDate(r gjson.Result) LocalDate {
	var l LocalDate
	if !r.IsObject() {
		return l
	}
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "year":
			l.Year = int(v.Int())
		case "month":
			l.Month = int(v.Int())
		case "day":
			l.Day = int(v.Int())
		case "hour":
			l.Hour = int(v.Int())
		case "minute":
			l.Minute = int(v.Int())
		case "second":
			l.Second = int(v.Int())
		case "weekday":
			l.Weekday = int(v.Int())
		case "timezone":
			l.Timezone = str(v)
		}
		return true
	})
	return l
}

// parseEntry reads the typed header of a timeseries entry. Missing fields stay zero: tolerance is
// the caller's choice.
//
// Entries, trips and their parts are read with gjson rather than decoded into structs: encoding/json
// took 4 to 8 times longer on the shared samples, as it scans the whole entry, data and all.
// GetManyBytes copies only the members it returns.
func parseEntry(raw json.RawMessage) Entry {
	m := gjson.GetManyBytes(raw, "_id", "user_id", "metadata")
	return Entry{Raw: raw, ID: mongoID(m[0]), UserID: mongoID(m[1]), Metadata: parseMetadata(m[2])}
}

func parseMetadata(r gjson.Result) Metadata {
	var m Metadata
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "key":
			m.Key = str(v)
		case "platform":
			m.Platform = str(v)
		case "write_ts":
			m.WriteTS = v.Float()
		case "time_zone":
			m.TimeZone = str(v)
		case "write_local_dt":
			m.WriteLocalDt = localDate(v)
		case "write_fmt_time":
			m.WriteFmtTime = str(v)
		}
		return true
	})
	return m
}

// setSpanField reads one member of a trip's or label's time span; it reports whether k is one.
func setSpanField(s *Span, k string, v gjson.Result) bool {
	switch k {
	case "start_ts":
		s.StartTS = v.Float()
	case "end_ts":
		s.EndTS = v.Float()
	case "start_fmt_time":
		s.StartFmtTime = str(v)
	case "end_fmt_time":
		s.EndFmtTime = str(v)
	case "start_local_dt":
		s.StartLocalDt = localDate(v)
	case "end_local_dt":
		s.EndLocalDt = localDate(v)
	default:
		return false
	}
	return true
}

// parseTripFields reads the trip fields of a trip's properties or a trip entry's data.
func parseTripFields(r gjson.Result, h *TripHeader) {
	r.ForEach(func(k, v gjson.Result) bool {
		if setSpanField(&h.Span, k.Str, v) {
			return true
		}
		switch k.Str {
		case "duration":
			h.Duration = v.Float()
		case "distance":
			h.Distance = v.Float()
		}
		return true
	})
}

// parseTrip reads the header of a getTrips FeatureCollection.
func parseTrip(raw json.RawMessage) Trip {
	m := gjson.GetManyBytes(raw, "id", "properties") // copies the header, not the features
	t := Trip{Raw: raw, TripHeader: TripHeader{ID: mongoID(m[0])}}
	parseTripFields(m[1], &t.TripHeader)
	return t
}

// TripHeader reads the trip fields of a trip entry (analysis/cleaned_trip, analysis/confirmed_trip,
// analysis/composite_trip): data.start_ts, data.end_ts, their local forms, duration and distance.
// The header's ID is the entry's _id. It fails with [ErrInvalidEntry] when the entry has no data or
// no start and end times.
func (e Entry) TripHeader() (TripHeader, error) {
	h := TripHeader{ID: e.ID}
	data := gjson.GetBytes(e.Raw, "data")
	if !data.Exists() {
		return h, fmt.Errorf("entry %s (%s) has no data: %w", e.ID, e.Metadata.Key, ErrInvalidEntry)
	}
	parseTripFields(data, &h)
	if h.StartTS == 0 || h.EndTS == 0 {
		return h, fmt.Errorf("entry %s (%s) has no data.start_ts/end_ts: %w", e.ID, e.Metadata.Key, ErrInvalidEntry)
	}
	return h, nil
}

// Label reads the data of a label entry. It fails with [ErrInvalidEntry] when the entry has no
// data.label or no start and end times; any label value is accepted, known or not.
func (e Entry) Label() (Label, error) {
	var l Label
	data := gjson.GetBytes(e.Raw, "data")
	if !data.Exists() {
		return l, fmt.Errorf("label entry %s has no data: %w", e.ID, ErrInvalidEntry)
	}
	var hasLabel bool
	data.ForEach(func(k, v gjson.Result) bool {
		if !setSpanField(&l.Span, k.Str, v) && k.Str == "label" {
			l.Value, hasLabel = str(v), v.Type == gjson.String
		}
		return true
	})
	switch {
	case !hasLabel:
		return l, fmt.Errorf("label entry %s has no data.label string: %w", e.ID, ErrInvalidEntry)
	case l.StartTS == 0 || l.EndTS == 0:
		return l, fmt.Errorf("label entry %s has no data.start_ts/end_ts: %w", e.ID, ErrInvalidEntry)
	}
	return l, nil
}
