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
// and a damaged document is an error, not a panic or a wrong month.
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
		c.Sections = make([]CachedSection, i%4)
		for j := range c.Sections {
			c.Sections[j] = CachedSection{Mode: trip.Mode([]string{"walk", "bike", "car"}[j%3]), Distance: 1234.5678 * float64(j+1), Duration: 60.25, Calories: 0.1}
		}
		e := entry{Cached: c}
		if i%6 != 0 {
			e.facts = fmt.Appendf(nil, `{"h":"%d"}`, i)
		}
		m.Trips[fmt.Sprintf("trip-%03d", 49-i)] = e
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got cacheMonth
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatal("the month decoded differs from the month encoded")
	}
	var mm memoMonth
	if err := json.Unmarshal(raw, &mm); err != nil || len(mm.ids) != 50 || mm.ids[0] != "trip-000" || !reflect.DeepEqual(mm.trips[0], m.Trips["trip-000"].Cached) {
		t.Fatalf("memo month: %d ids from %q, %v; want 50 in id order", len(mm.ids), mm.ids[0], err)
	}
	// A store that gives the document back spelled otherwise (spaces, members reordered).
	spaced := []byte(strings.Replace(strings.Replace(string(raw), `"b":"`, `"b" : "`, 1), "{", `{"_id": "_local/figures-2024-03", `, 1))
	var again cacheMonth
	if err := json.Unmarshal(spaced, &again); err != nil || !reflect.DeepEqual(again, m) {
		t.Fatalf("the month spelled otherwise: %v, or it decodes differently", err)
	}
	var doc monthJSON
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1, len(doc.B) / 2, len(doc.B) - 1} {
		damaged, _ := json.Marshal(monthJSON{Codec: codecVersion, B: doc.B[:cut]})
		if err := json.Unmarshal(damaged, &got); err == nil {
			t.Errorf("a month cut at %d of %d bytes decodes", cut, len(doc.B))
		}
	}
	long, _ := json.Marshal(monthJSON{Codec: codecVersion, B: append(doc.B, 0)})
	if err := json.Unmarshal(long, &got); err == nil {
		t.Error("a month with a trailing byte decodes")
	}
}
