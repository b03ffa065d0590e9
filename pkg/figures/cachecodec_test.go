package figures

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// TestMonthCodecRoundTrip: a month of the cache comes back exactly as written, floats to the bit,
// from its figures and facts documents joined, and a damaged document is an error, not a panic or
// a wrong month.
func TestMonthCodecRoundTrip(t *testing.T) {
	m := cacheMonth{Trips: map[string]entry{}}
	for i := range 50 {
		c := Cached{Device: fmt.Sprintf("phone-%d", i%3), LocalStart: fmt.Sprintf("2024-03-%02dT08:00:00+01:00", 1+i%28),
			Title: "Home → Work", TotalCO2: 0.1 * float64(i), StartTS: 1.7e9 + float64(i)*0.001,
			Purpose: trip.Purpose([]string{"", "work", "shopping"}[i%3]), TotalDuration: math.Pi * float64(i),
			TotalCalories: 1.0 / 3, Recurring: i%2 == 0, NotATrip: i%7 == 0}
		if i%5 != 0 {
			c.LocalEnd, c.ManualTitle = "2024-03-01T09:00:00+01:00", fmt.Sprintf("mine %d", i)
		}
		if i%4 != 0 {
			c.Sections = make([]CachedSection, i%4)
		}
		for j := range c.Sections {
			c.Sections[j] = CachedSection{Mode: trip.Mode([]string{"walk", "bike", "car"}[j%3]), Distance: 1234.5678 * float64(j+1), Duration: 60.25, Calories: 0.1}
		}
		e := entry{Cached: c, figured: true, entryFacts: entryFacts{rev: fmt.Sprintf("%d-abc", i), inputs: "set\x00v1"}}
		if i%6 != 0 {
			f := &Facts{Trip: fmt.Sprintf("%032x", i), Device: c.Device, LocalStart: c.LocalStart, StartTS: c.StartTS,
				Start: trip.Point{Lon: -1.15, Lat: 46.16}, End: trip.Point{Lon: -1.1 * float64(i), Lat: 1.0 / 7}, HasEnds: i%5 != 1,
				StartPlace: "La Rochelle", EndPlace: fmt.Sprintf("place %d", i)}
			if i%3 == 0 {
				bike := "bike"
				f.ModeLabel = &bike
				f.Manual = json.RawMessage(`{"purpose":"work","purposeFrom":"user"}`)
			}
			for j := range i % 3 {
				f.Sections = append(f.Sections, FactSection{ID: fmt.Sprintf("s%d", j), SensedMode: "MotionTypes.ON_FOOT",
					Distance: 1e3 / 3 * float64(j), Duration: math.E, StartDate: "2024-03-01T08:00:00+01:00", EndDate: "2024-03-01T08:10:00+01:00"})
			}
			e.facts = f
		}
		m.Trips[fmt.Sprintf("trip-%03d", 49-i)] = e
	}
	// Each form is written as encoding/json writes the document {"codec", "b"}.
	for _, codec := range []int{codecFigures, codecFacts} {
		enc, _ := encodeMonth(&m, codec)
		var doc monthJSON
		if err := json.Unmarshal(enc, &doc); err != nil || doc.Codec != codec {
			t.Fatalf("form %d: %v, codec %d", codec, err, doc.Codec)
		}
		if want, _ := json.Marshal(doc); string(enc) != string(want) {
			t.Fatalf("form %d: written %.80s…, encoding/json writes %.80s…", codec, enc, want)
		}
	}
	figs, err := json.Marshal(figuresDoc{&m})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := json.Marshal(factsDoc{&m})
	if err != nil {
		t.Fatal(err)
	}
	var joined cacheMonth
	if err := json.Unmarshal(figs, &joined); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(facts, &joined); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(joined, m) {
		t.Fatal("the month's figures and facts documents, joined, differ from the month")
	}
	var mm memoMonth
	if err := json.Unmarshal(figs, &mm); err != nil || len(mm.ids) != 50 || mm.ids[0] != "trip-000" || !reflect.DeepEqual(mm.trips[0], m.Trips["trip-000"].Cached) {
		t.Fatalf("memo month: %d ids, %v; want 50 in id order", len(mm.ids), err)
	}
	if err := json.Unmarshal(facts, &mm); err == nil {
		t.Fatal("a report read a facts document as figures")
	}
	// A store that gives the document back spelled otherwise (spaces, members reordered).
	spaced := []byte(strings.Replace(strings.Replace(string(facts), `"b":"`, `"b" : "`, 1), "{", `{"_id": "_local/figures-facts-2024-03", `, 1))
	again := cacheMonth{Trips: map[string]entry{}}
	if err := json.Unmarshal(figs, &again); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(spaced, &again); err != nil || !reflect.DeepEqual(again, m) {
		t.Fatalf("the month spelled otherwise: %v, or it decodes differently", err)
	}
	var got cacheMonth
	for _, raw := range [][]byte{figs, facts} {
		var doc monthJSON
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{0, 1, len(doc.B) / 2, len(doc.B) - 1} {
			damaged, _ := json.Marshal(monthJSON{Codec: doc.Codec, B: doc.B[:cut]})
			if err := json.Unmarshal(damaged, &got); err == nil {
				t.Errorf("form %d: a month cut at %d of %d bytes decodes", doc.Codec, cut, len(doc.B))
			}
		}
		long, _ := json.Marshal(monthJSON{Codec: doc.Codec, B: append(doc.B, 0)})
		if err := json.Unmarshal(long, &got); err == nil {
			t.Errorf("form %d: a month with a trailing byte decodes", doc.Codec)
		}
	}
	both, _ := json.Marshal(monthJSON{Codec: 3})
	if err := json.Unmarshal(both, &got); err == nil {
		t.Error("a document of the inbox's form, which nothing writes any more, decodes")
	}
}

// FuzzMonthCodec: whatever a stored month document holds, decoding it gives an error or a month
// that encodes and decodes again to itself; it never panics.
func FuzzMonthCodec(f *testing.F) {
	m := cacheMonth{Trips: map[string]entry{
		"a": {Cached: Cached{Device: "d", LocalStart: "2024-01-02T03:04:05Z", Sections: []CachedSection{{Mode: "walk", Distance: 1}}}, figured: true,
			entryFacts: entryFacts{rev: "1-x", inputs: "i", facts: &Facts{Trip: "h", ModeLabel: new(string), Sections: []FactSection{{SensedMode: "m"}}, Manual: json.RawMessage(`{}`)}}},
		"b": {figured: true},
	}}
	for _, doc := range []any{figuresDoc{&m}, factsDoc{&m}} {
		raw, err := json.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got cacheMonth
		if json.Unmarshal(raw, &got) != nil {
			return
		}
		var back cacheMonth
		for _, doc := range []any{figuresDoc{&got}, factsDoc{&got}} {
			again, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("a decoded month does not encode: %v", err)
			}
			if err := json.Unmarshal(again, &back); err != nil {
				t.Fatalf("a month encoded from a decoded one does not decode: %v", err)
			}
		}
	})
}
