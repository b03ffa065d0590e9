package sqlitecouch

import (
	"bytes"
	"encoding/json"
	"testing"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// collationOrder is CouchDB's documented collation example ("Views Collation"), ascending.
const collationOrder = `[null, false, true, -1e10, -2, -1.5, 0, 0.5, 1, 1.25, 2, 3.0e3,
	"a", "A", "aa", "b", "B", "ba", "bb", "é", "f",
	["a"], ["b"], ["b", "c"], ["b", "c", "a"], ["b", "d"], ["b", "d", "e"],
	{"a": 1}, {"a": 2}, {"b": 1}, {"b": 2}, {"b": 2, "c": 2}]`

func TestCollationOrder(t *testing.T) {
	var values []any
	if err := json.Unmarshal([]byte(collationOrder), &values); err != nil {
		t.Fatal(err)
	}
	col := collate.New(language.Und)
	enc := &keyEncoder{col: col}
	for i := range values {
		for j := range values {
			want := sign(i - j)
			if got := sign(compareValues(col, values[i], values[j])); got != want {
				t.Errorf("compare(%v, %v) = %d, want %d", values[i], values[j], got, want)
			}
			ki, kj := enc.append(nil, values[i]), enc.append(nil, values[j])
			if got := sign(bytes.Compare(ki, kj)); got != want {
				t.Errorf("key order of %v and %v = %d, want %d", values[i], values[j], got, want)
			}
		}
	}
}

// FuzzKeyEncoding checks that the byte order of encoded keys is the collation order, and that no
// encoding is a proper prefix of another (index range bounds rely on both).
func FuzzKeyEncoding(f *testing.F) {
	f.Add(`1.5`, `1.25`)
	f.Add(`"a"`, `"A"`)
	f.Add(`["a", 1]`, `["a"]`)
	f.Add(`{"a": [null]}`, `{"a": []}`)
	f.Add(`"a\u0000b"`, `"a"`)
	f.Add(`-0.0`, `0`)
	col := collate.New(language.Und)
	enc := &keyEncoder{col: col}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := decodeJSON([]byte(a))
		vb, errB := decodeJSON([]byte(b))
		if errA != nil || errB != nil {
			return
		}
		ka, kb := enc.append(nil, va), enc.append(nil, vb)
		want := sign(compareValues(col, va, vb))
		if got := sign(bytes.Compare(ka, kb)); got != want {
			t.Fatalf("%s vs %s: keys order %d, collation %d", a, b, got, want)
		}
		if !bytes.Equal(ka, kb) && (bytes.HasPrefix(ka, kb) || bytes.HasPrefix(kb, ka)) {
			t.Fatalf("%s and %s: one key is a prefix of the other", a, b)
		}
	})
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
