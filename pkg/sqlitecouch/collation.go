package sqlitecouch

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"

	"golang.org/x/text/collate"
)

// CouchDB's collation orders JSON values by type first: null, false, true, numbers, strings,
// arrays, objects; then numbers by value, strings by the Unicode Collation Algorithm, arrays and
// objects member by member. x/collate in kivik has the right shape but compares fractional
// numbers as equal (it truncates their difference to an int), so the comparison is ours and only
// the string collator comes from golang.org/x/text, as kivik's does.

// Type ranks, in CouchDB's order; they double as the tags of the key encoding.
const (
	rankNull   = 0x01
	rankFalse  = 0x02
	rankTrue   = 0x03
	rankNumber = 0x04
	rankString = 0x05
	rankArray  = 0x06
	rankObject = 0x07
)

func rank(v any) byte {
	switch t := v.(type) {
	case nil:
		return rankNull
	case bool:
		if t {
			return rankTrue
		}
		return rankFalse
	case float64:
		return rankNumber
	case string:
		return rankString
	case []any:
		return rankArray
	case map[string]any:
		return rankObject
	}
	return rankNull
}

// compareValues orders two decoded JSON values by CouchDB's collation.
func compareValues(col *collate.Collator, a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return int(ra) - int(rb)
	}
	switch ra {
	case rankNumber:
		x, y := a.(float64), b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case rankString:
		return col.CompareString(a.(string), b.(string))
	case rankArray:
		x, y := a.([]any), b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareValues(col, x[i], y[i]); c != 0 {
				return c
			}
		}
		return len(x) - len(y)
	case rankObject:
		// CouchDB compares objects member by member in their order; Go maps have none, so
		// members are taken in sorted key order. Objects are rarely compared in queries.
		x, y := a.(map[string]any), b.(map[string]any)
		kx, ky := sortedKeys(col, x), sortedKeys(col, y)
		for i := 0; i < len(kx) && i < len(ky); i++ {
			if c := col.CompareString(kx[i], ky[i]); c != 0 {
				return c
			}
			if c := compareValues(col, x[kx[i]], y[ky[i]]); c != 0 {
				return c
			}
		}
		return len(kx) - len(ky)
	}
	return 0
}

// compareRaw orders values as CouchDB's raw collation does (mango_json:cmp_raw, which Mango
// applies to _id): Erlang's term order on the decoded JSON. Strings compare by their bytes
// (code points, as _all_docs orders ids) and come after every other type; then arrays, objects,
// the atoms false, null and true (alphabetically), and numbers first.
func compareRaw(a, b any) int {
	ra, rb := rawRank(a), rawRank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case []any:
		y := b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareRaw(x[i], y[i]); c != 0 {
				return c
			}
		}
		return len(x) - len(y)
	case map[string]any:
		// Members in key order: Go maps keep no order of their own.
		y := b.(map[string]any)
		kx, ky := slices.Sorted(maps.Keys(x)), slices.Sorted(maps.Keys(y))
		for i := 0; i < len(kx) && i < len(ky); i++ {
			if c := strings.Compare(kx[i], ky[i]); c != 0 {
				return c
			}
			if c := compareRaw(x[kx[i]], y[ky[i]]); c != 0 {
				return c
			}
		}
		return len(kx) - len(ky)
	}
	return 0
}

// rawRank is a type's place in Erlang's term order, as jiffy decodes JSON: numbers, atoms
// (false < null < true), tuples (objects), lists (arrays), binaries (strings).
func rawRank(v any) int {
	switch t := v.(type) {
	case float64:
		return 0
	case bool:
		if t {
			return 3
		}
		return 1
	case nil:
		return 2
	case map[string]any:
		return 4
	case []any:
		return 5
	case string:
		return 6
	}
	return 2
}

func sortedKeys(col *collate.Collator, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	col.SortStrings(keys)
	return keys
}

// keyEncoder turns JSON values into byte strings whose bytewise order is CouchDB's collation
// order, so SQLite can keep index entries sorted and answer range scans with memcmp. Every
// encoding is self-delimiting: no value's encoding is a prefix of another's.
type keyEncoder struct {
	col *collate.Collator
	buf collate.Buffer
}

func (e *keyEncoder) append(dst []byte, v any) []byte {
	r := rank(v)
	dst = append(dst, r)
	switch r {
	case rankNumber:
		n := v.(float64)
		if n == 0 {
			n = 0 // -0 collates as 0
		}
		bits := math.Float64bits(n)
		if bits>>63 == 1 {
			bits = ^bits // negative numbers: larger magnitude sorts first
		} else {
			bits |= 1 << 63
		}
		dst = binary.BigEndian.AppendUint64(dst, bits)
	case rankString:
		e.buf.Reset()
		dst = appendEscaped(dst, e.col.KeyFromString(&e.buf, v.(string)))
	case rankArray:
		for _, x := range v.([]any) {
			dst = e.append(dst, x)
		}
		dst = append(dst, 0x00)
	case rankObject:
		m := v.(map[string]any)
		for _, k := range sortedKeys(e.col, m) {
			dst = e.append(dst, k)
			dst = e.append(dst, m[k])
		}
		dst = append(dst, 0x00)
	}
	return dst
}

// appendEscaped writes b so that it sorts as b and ends unambiguously: 0x00 becomes 0x00 0xFF and
// the end is 0x00 0x01, which sorts before any continuation.
func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, c)
		if c == 0x00 {
			dst = append(dst, 0xFF)
		}
	}
	return append(dst, 0x00, 0x01)
}

// keyOf encodes the values of an index's fields as one key (an array, in field order).
func (e *keyEncoder) keyOf(values []any) []byte {
	dst := []byte{rankArray}
	for _, v := range values {
		dst = e.append(dst, v)
	}
	return append(dst, 0x00)
}

// prefixOf encodes the first values of an index key without closing the array: every key whose
// leading fields equal values starts with it.
func (e *keyEncoder) prefixOf(values []any) []byte {
	dst := []byte{rankArray}
	for _, v := range values {
		dst = e.append(dst, v)
	}
	return dst
}

// decodeJSON decodes raw JSON into the generic form the selector and collation use.
func decodeJSON(raw []byte) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}
