package sqlitecouch

import (
	"encoding/json"
	"slices"
	"testing"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// The expectations follow CouchDB's documented Mango semantics (docs.couchdb.org, "Selector
// Syntax"), written out by hand.
func TestSelectorMatches(t *testing.T) {
	doc := `{"_id": "t1", "n": 1.5, "s": "bike", "flag": false, "nil": null,
		"tags": ["a", "b"], "nums": [1, 2, 3],
		"sections": [{"mode": "WALKING", "km": 0.4}, {"mode": "BICYCLING", "km": 3.2}],
		"meta": {"device": "phone-1", "version": 2, "inner": {"x": 1}},
		"dotted.name": 7}`
	cases := []struct {
		selector string
		want     bool
	}{
		{`{}`, true},
		{`{"n": 1.5}`, true},
		{`{"n": {"$eq": 1.5}}`, true},
		{`{"n": {"$gt": 1.2}}`, true}, // kivik's x/mango says false: it truncates 1.5-1.2 to 0
		{`{"n": {"$gt": 1.7}}`, false},
		{`{"n": {"$gte": 1.5, "$lt": 1.6}}`, true}, // two operators on one field
		{`{"n": {"$gt": 1.5}}`, false},
		{`{"n": {"$lte": 1.5}}`, true},
		{`{"n": {"$lt": 1.5}}`, false},
		{`{"n": {"$ne": 2}}`, true},
		{`{"missing": {"$ne": 2}}`, false}, // a missing field matches nothing but $exists:false
		{`{"missing": {"$lt": 2}}`, false},
		{`{"missing": {"$nin": [1]}}`, false},
		{`{"missing": {"$exists": false}}`, true},
		{`{"missing": {"$exists": true}}`, false},
		{`{"nil": {"$exists": true}}`, true},
		{`{"nil": null}`, true},
		{`{"nil": {"$type": "null"}}`, true},
		{`{"flag": {"$type": "boolean"}}`, true},
		{`{"n": {"$type": "number"}}`, true},
		{`{"s": {"$type": "number"}}`, false},
		{`{"s": {"$in": ["car", "bike"]}}`, true},
		{`{"s": {"$nin": ["car", "bike"]}}`, false},
		{`{"s": {"$regex": "^bi"}}`, true},
		{`{"s": {"$regex": "^car"}}`, false},
		{`{"n": {"$regex": "1"}}`, false}, // $regex only matches strings
		{`{"s": {"$beginsWith": "bi"}}`, true},
		{`{"meta.device": "phone-1"}`, true},
		{`{"meta": {"device": "phone-1"}}`, true}, // implicit nested field
		{`{"meta": {"inner": {"x": {"$gt": 0}}}}`, true},
		{`{"meta.inner.x": 2}`, false},
		{`{"dotted\\.name": 7}`, true},
		{`{"meta": {"device": "phone-1", "version": 3}}`, false},
		{`{"tags": {"$elemMatch": {"$eq": "b"}}}`, true},
		{`{"tags": {"$elemMatch": {"$eq": "z"}}}`, false},
		{`{"sections": {"$elemMatch": {"mode": "BICYCLING", "km": {"$gt": 3}}}}`, true}, // kivik panics here
		{`{"sections": {"$elemMatch": {"mode": "BICYCLING", "km": {"$gt": 4}}}}`, false},
		{`{"sections": {"$allMatch": {"km": {"$gt": 0.1}}}}`, true},
		{`{"sections": {"$allMatch": {"km": {"$gt": 1}}}}`, false},
		{`{"nums": {"$all": [3, 1]}}`, true},
		{`{"nums": {"$all": [3, 4]}}`, false},
		{`{"nums": {"$size": 3}}`, true},
		{`{"n": {"$mod": [2, 1]}}`, false}, // 1.5 is not an integer
		{`{"meta.version": {"$mod": [2, 0]}}`, true},
		{`{"meta": {"$keyMapMatch": {"$eq": "device"}}}`, true},
		{`{"$and": [{"n": {"$gt": 1}}, {"s": "bike"}]}`, true},
		{`{"$and": [{"n": {"$gt": 1}}, {"s": "car"}]}`, false},
		{`{"$or": [{"n": 9}, {"s": "bike"}]}`, true},
		{`{"$or": [{"n": 9}, {"s": "car"}]}`, false},
		{`{"$nor": [{"n": 9}, {"s": "car"}]}`, true},
		{`{"$not": {"s": "car"}}`, true},
		{`{"$not": {"s": "bike"}}`, false},
		{`{"n": {"$not": {"$gt": 2}}}`, true},
		{`{"n": {"$or": [{"$lt": 1}, {"$gt": 1.4}]}}`, true},
		{`{"_id": {"$gt": "t0"}}`, true},
		{`{"s": "bike", "n": {"$gt": 1}, "tags": {"$size": 2}}`, true},
		// An array is in a list when one of its elements is; it is not compared as a whole.
		{`{"tags": {"$in": ["a", "z"]}}`, true},
		{`{"tags": {"$in": ["z"]}}`, false},
		{`{"tags": {"$nin": ["a"]}}`, false},
		{`{"tags": {"$nin": ["z"]}}`, true},
		{`{"tags": {"$in": [["a", "b"]]}}`, false},
		{`{"nums": {"$all": [[1, 2, 3]]}}`, true},
		// Negations are pushed down to the conditions: a missing field still matches nothing.
		{`{"$not": {"missing": {"$lt": 2}}}`, false},
		{`{"$not": {"n": {"$lt": 1}}}`, true},
		{`{"$not": {"missing": {"$exists": true}}}`, true},
		{`{"$nor": [{"missing": 1}]}`, false},
		{`{"missing": {"$not": {"$regex": "x"}}}`, false},
		{`{"s": {"$not": {"$regex": "^car"}}}`, true},
		{`{"$not": {"s": "bike", "n": 9}}`, true},
		{`{"$not": {"$or": [{"s": "car"}, {"n": 9}]}}`, true},
		{`{"$not": {"$nor": [{"s": "bike"}]}}`, true},
		{`{"$or": []}`, true},
		// _id compares by raw bytes: "t1" > "U" ("t" is 0x74), though t sorts before U by collation.
		{`{"_id": {"$lt": "U"}}`, false},
		{`{"_id": {"$gt": "U"}}`, true},
		{`{"_id": {"$gt": 5}}`, true}, // a string comes after every other type
	}
	col := collate.New(language.Und)
	var d any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		sel, err := compileSelector(json.RawMessage(c.selector), col)
		if err != nil {
			t.Errorf("%s: %v", c.selector, err)
			continue
		}
		if got := sel.root.match(d); got != c.want {
			t.Errorf("%s: matched %v, want %v", c.selector, got, c.want)
		}
	}
}

func TestSelectorErrors(t *testing.T) {
	col := collate.New(language.Und)
	for _, s := range []string{
		``, `[]`, `"x"`, `{"$gt": 1}`, `{"n": {"$unknown": 1}}`, `{"n": {"$in": 3}}`,
		`{"n": {"$regex": "("}}`, `{"n": {"$type": "date"}}`, `{"n": {"$mod": [0, 1]}}`,
		`{"n": {"$size": -1}}`, `{"$and": {"n": 1}}`, `{"n": {"$exists": "yes"}}`, `{"n": 1} trailing`,
	} {
		if _, err := compileSelector(json.RawMessage(s), col); err == nil {
			t.Errorf("%q compiled, want an error", s)
		}
	}
}

func TestSelectorConstraintsForPlanning(t *testing.T) {
	col := collate.New(language.Und)
	sel, err := compileSelector(json.RawMessage(`{"a": 1, "$and": [{"b": {"$gt": 2}}], "$or": [{"c": 1}, {"d": 2}], "e": {"f": 3}}`), col)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range sel.constraints {
		got[c.field] = c.op
	}
	want := map[string]string{"a": "$eq", "b": "$gt", "e.f": "$eq"} // $or members cannot narrow an index
	if len(got) != len(want) {
		t.Fatalf("constraints %v, want %v", got, want)
	}
	for f, op := range want {
		if got[f] != op {
			t.Errorf("constraint on %s: %q, want %q", f, got[f], op)
		}
	}
}

// TestSelectorRequiredFields: the fields every matching document has, which decide whether an
// index can serve the query (mango_selector:has_required_fields).
func TestSelectorRequiredFields(t *testing.T) {
	col := collate.New(language.Und)
	for _, c := range []struct {
		selector string
		want     []string
	}{
		{`{"a": 1, "$or": [{"b": 1}, {"b": 2, "c": 1}]}`, []string{"a", "b"}},
		{`{"a": {"$exists": false}, "b": {"$exists": true}}`, []string{"b"}},
		{`{"$not": {"a": {"$exists": false}}}`, []string{"a"}},
		{`{"$not": {"a": 1, "b": 2}}`, nil},
		{`{"$nor": [{"a": 1}, {"b": 2}]}`, []string{"a", "b"}},
		{`{"a": {"b": {"$in": [1]}}, "c": {"$elemMatch": {"d": 1}}}`, []string{"a.b", "c"}},
		{`{}`, nil},
	} {
		sel, err := compileSelector(json.RawMessage(c.selector), col)
		if err != nil {
			t.Fatalf("%s: %v", c.selector, err)
		}
		var got []string
		for f := range sel.required {
			got = append(got, f)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s requires %q, want %q", c.selector, got, c.want)
		}
	}
}

// FuzzSelector: no selector, however malformed, panics the compiler or the matcher.
func FuzzSelector(f *testing.F) {
	f.Add(`{"n": {"$gt": 1.5, "$lt": 3}}`, `{"n": 2}`)
	f.Add(`{"a": {"$elemMatch": {"b": {"$in": [1, 2]}}}}`, `{"a": [{"b": 2}]}`)
	f.Add(`{"$or": [{"a": {"$exists": false}}, {"a.b": {"$regex": "^x"}}]}`, `{"a": {"b": "xy"}}`)
	f.Add(`{"a": {"$not": {"$size": 2}}}`, `{"a": [1, 2]}`)
	f.Add(`{"a": {"$keyMapMatch": {"$eq": "k"}}}`, `{"a": {"k": null}}`)
	col := collate.New(language.Und)
	f.Fuzz(func(t *testing.T, sel, doc string) {
		s, err := compileSelector(json.RawMessage(sel), col)
		if err != nil {
			return
		}
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		s.root.match(v)
	})
}
