package trip

import (
	"bytes"
	"strconv"
)

// CheckRoute returns the error [Doc.Route] would return, without decoding the series when a scan
// shows that every member Route reads has a type it takes (a trip's series is tens of kB, and
// checking is all the conversion needs). Series[0] must be valid JSON, as the conversion makes it.
func (d *Doc) CheckRoute() error {
	if len(d.Series) > 0 && routeReads(d.Series[0]) {
		return nil
	}
	_, err := d.Route() // its exact error, or a doubt of the scan's
	return err
}

// RouteIsPlain reports whether the series of the trip is plain: every member Route reads has a type
// it takes, no key repeats in an object Route reads, and no key is spelled so that encoding/json
// alone would match it (escapes, another case). Any reader of valid JSON then reads the values
// Route reads, which lets a faster one stand in for it. Series[0] must be valid JSON.
func (d *Doc) RouteIsPlain() bool {
	return len(d.Series) > 0 && routeReads(d.Series[0])
}

// shape is what encoding/json takes into a field of the types Route decodes (see series): kind is
// 'o' a struct, 'a' a slice, 's' a string, 'n' a float64, 'r' a json.RawMessage (anything).
type shape struct {
	kind   byte
	fields map[string]*shape
	// order numbers the fields, to tell a repeated one.
	order map[string]int
	elem  *shape
}

// anyShape is a member Route does not read; it is never changed.
var anyShape = &shape{kind: 'r'}

// seriesShape mirrors the series type; it is never changed.
var seriesShape = func() *shape {
	str, num, raw := &shape{kind: 's'}, &shape{kind: 'n'}, &shape{kind: 'r'}
	obj := func(f map[string]*shape) *shape {
		order := map[string]int{}
		for name := range f {
			order[name] = len(order)
		}
		return &shape{kind: 'o', fields: f, order: order}
	}
	list := func(e *shape) *shape { return &shape{kind: 'a', elem: e} }
	point := obj(map[string]*shape{"coordinates": list(num)})
	section := obj(map[string]*shape{
		"id":       str,
		"geometry": obj(map[string]*shape{"coordinates": raw}),
		"properties": obj(map[string]*shape{
			"sensed_mode": str, "distance": num, "duration": num, "start_ts": num, "end_ts": num,
			"start_fmt_time": str, "end_fmt_time": str, "distances": raw, "timestamps": raw, "speeds": raw,
		}),
	})
	return obj(map[string]*shape{
		"properties": obj(map[string]*shape{"start_loc": point, "end_loc": point}),
		"features": list(obj(map[string]*shape{
			"type":       str,
			"properties": obj(map[string]*shape{"feature_type": str, "display_name": str}),
			"features":   list(section),
		})),
	})
}()

// routeReads reports whether json.Unmarshal of the valid JSON series into Route's type surely
// succeeds. It is false at any doubt: a key with an escape or a non-ASCII byte, or one that matches
// a field only as encoding/json matches names, case-insensitively.
func routeReads(series []byte) bool {
	end, ok := fits(series, skipSpace(series, 0), seriesShape)
	return ok && skipSpace(series, end) == len(series)
}

// fits checks the value at b[i] against s and returns its end.
func fits(b []byte, i int, s *shape) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	if b[i] == 'n' { // null leaves any field as it is
		return i + 4, i+4 <= len(b) && string(b[i:i+4]) == "null"
	}
	switch s.kind {
	case 'r':
		end := skipValue(b, i)
		return end, end > 0
	case 's':
		if b[i] != '"' {
			return i, false
		}
		end := skipString(b, i)
		return end, end > 0
	case 'n':
		end := i
		for end < len(b) && (b[end] == '-' || b[end] == '+' || b[end] == '.' || b[end] == 'e' || b[end] == 'E' || '0' <= b[end] && b[end] <= '9') {
			end++
		}
		if end == i || b[i] == '+' {
			return i, false
		}
		if end-i < 300 && !bytes.ContainsAny(b[i:end], "eE") {
			return end, true // under 1e300: in float64's range
		}
		_, err := strconv.ParseFloat(string(b[i:end]), 64) // out of float64's range: a type error
		return end, err == nil
	case 'a':
		if b[i] != '[' {
			return i, false
		}
		for i = skipSpace(b, i+1); i < len(b) && b[i] != ']'; {
			end, ok := fits(b, i, s.elem)
			if !ok {
				return end, false
			}
			if i = skipSpace(b, end); i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		return i + 1, i < len(b)
	}
	if b[i] != '{' {
		return i, false
	}
	var seen uint64 // the known fields met, by their place in s.order
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		keyEnd := skipString(b, i)
		if keyEnd < 0 {
			return i, false
		}
		key := b[i+1 : keyEnd-1]
		for _, c := range key {
			if c == '\\' || c >= 0x80 {
				return i, false
			}
		}
		v := skipSpace(b, keyEnd)
		if v >= len(b) || b[v] != ':' {
			return v, false
		}
		v = skipSpace(b, v+1)
		f, known := s.fields[string(key)]
		if known {
			// A repeated key: encoding/json keeps the last value, other readers the first.
			bit := uint64(1) << s.order[string(key)]
			if seen&bit != 0 {
				return i, false
			}
			seen |= bit
		} else {
			for name := range s.fields {
				if asciiEqualFold(name, key) {
					return i, false // encoding/json would decode it into the field
				}
			}
			f = anyShape
		}
		end, ok := fits(b, v, f)
		if !ok {
			return end, false
		}
		if i = skipSpace(b, end); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i + 1, i < len(b)
}

// asciiEqualFold reports whether the ASCII key is name, ignoring case.
func asciiEqualFold(name string, key []byte) bool {
	if len(name) != len(key) {
		return false
	}
	for i := range key {
		a, b := name[i], key[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the string at b[i], -1 when it does not end.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the end of the valid JSON value at b[i], -1 when it does not end.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			if i = skipString(b, i); i < 0 {
				return -1
			}
			i--
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of a number or a literal
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}
