package openpath_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/jsonscan"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// validListSeeds are answers at every edge of validList: invalid JSON of each kind, shapes
// listElements refuses, and nesting at encoding/json's limit.
var validListSeeds = []string{
	`{"phone_data": []}`, ` { "phone_data" : [ {} , {"a": [1, -0.5e+3, "x\"\\/\b\f\n\r\t\u00e9"]} ] , "other": {"phone_data": 1} } `,
	`{"phone_data": [{}], "phone_data": []}`, `{"phone\u005fdata": []}`, `{"phone_data": {}}`, `{"phone_data": [1]}`,
	`{"phone_data": [{}, null]}`, `{}`, `[]`, `null`, `{"phone_data": []} x`, `{"phone_data": [{},]}`, `{"a": 1,}`,
	`{"phone_data": [{"a": 01}]}`, `{"phone_data": [{"a": 1.}]}`, `{"phone_data": [{"a": -}]}`, `{"phone_data": [{"a": 1e}]}`,
	`{"phone_data": [{"a": "\x"}]}`, `{"phone_data": [{"a": "\u12g4"}]}`, "{\"phone_data\": [{\"a\": \"\x01\"}]}",
	`{"phone_data": [{"a": tru}]}`, `{"phone_data": [{"a": nul`, `{"phone_data": [{"a" 1}]}`, `{"phone_data": [{1: 1}]}`,
	`{"phone_data": [{"a": [1 2]}]}`, `{"phone_data": [{"a": "\u00`, "{\"phone_data\": [{\"a\": \"\xff\xfe\"}]}",
	`{"x": [[[[]]]], "phone_data": [{"a": {"b": {}}}]}`, ``, ` `, `{"phone_data": [] `, `{"phone_data"`,
}

// deepAnswer nests a value depth containers deep: as a member beside the list (inList false) or in
// the list's first element.
func deepAnswer(depth int, inList bool) string {
	deep := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	if inList {
		return `{"phone_data": [{"a": ` + deep + `}]}`
	}
	return `{"x": ` + deep + `, "phone_data": []}`
}

// checkValidList holds validList to what it replaces: gjson.ValidBytes, then listElements.
func checkValidList(t *testing.T, answer []byte) {
	t.Helper()
	got, gotOK := openpath.ValidList(answer, "phone_data")
	var want [][2]int
	wantOK := gjson.ValidBytes(answer)
	if wantOK {
		want, wantOK = openpath.ListElements(answer, "phone_data")
	}
	if gotOK != wantOK || gotOK && !slices.Equal(got, want) {
		t.Fatalf("%.200q: validList %v %v, gjson.ValidBytes and listElements %v %v", answer, got, gotOK, want, wantOK)
	}
}

// TestValidList: validList says what gjson.ValidBytes and listElements said, on the seeds, around
// the nesting limit, and on a generated user's composite trips.
func TestValidList(t *testing.T) {
	for _, s := range validListSeeds {
		checkValidList(t, []byte(s))
	}
	for _, d := range []int{jsonscan.MaxDepth - 3, jsonscan.MaxDepth - 2, jsonscan.MaxDepth - 1, jsonscan.MaxDepth} {
		checkValidList(t, []byte(deepAnswer(d, false)))
		checkValidList(t, []byte(deepAnswer(d, true)))
	}
	answer := generatedAnswer(t, 5)
	checkValidList(t, answer)
	if elements, ok := openpath.ValidList(answer, "phone_data"); !ok || len(elements) < 10 {
		t.Fatalf("generated answer: %d entries, %v", len(elements), ok)
	}
}

// generatedAnswer is a find_entries answer of a generated user's composite trips over days.
func generatedAnswer(t testing.TB, days int) []byte {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: days, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	answer := []byte(`{"phone_data": [`)
	n := 0
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		if n++; n > 1 {
			answer = append(answer, ", "...)
		}
		answer = tr.AppendCompositeEntry(answer, gen.Users()[0].UUID, tr.ProcessedTS)
		return true
	})
	return append(answer, "]}"...)
}

// FuzzValidList is TestValidList on any answer. Seed corpus: the seeds above.
func FuzzValidList(f *testing.F) {
	for _, s := range validListSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, answer []byte) { checkValidList(t, answer) })
}

// BenchmarkValidList validates and cuts a 20-day answer of composite trips, against the two passes
// it replaces.
func BenchmarkValidList(b *testing.B) {
	answer := generatedAnswer(b, 20)
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(answer)))
		for b.Loop() {
			if _, ok := openpath.ValidList(answer, "phone_data"); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("gjson+listElements", func(b *testing.B) {
		b.SetBytes(int64(len(answer)))
		for b.Loop() {
			if _, ok := openpath.ListElements(answer, "phone_data"); !ok || !gjson.ValidBytes(answer) {
				b.Fatal("refused")
			}
		}
	})
}
