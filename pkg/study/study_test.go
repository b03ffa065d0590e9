package study

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadDescriptor(t *testing.T) *Descriptor {
	t.Helper()
	b, err := os.ReadFile("testdata/descriptor.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDescriptor(b)
	if err != nil {
		t.Fatalf("the example descriptor: %v", err)
	}
	return d
}

func TestParseDescriptor(t *testing.T) {
	d := loadDescriptor(t)
	if d.ID != "mobility-la-rochelle-2026" || d.K != 5 || d.RetentionMonths != 24 || len(d.Measures) != 4 ||
		d.Period.From != Month(2026, time.January) || d.Period.To != Month(2026, time.December) {
		t.Fatalf("parsed: %+v", d)
	}
	if got := d.ContributionsURL(); got != "https://collector.univ-example.fr/coachco2/studies/mobility-la-rochelle-2026/contributions" {
		t.Fatalf("ContributionsURL = %s", got)
	}
	p := strings.Repeat("ab", 16)
	if got := d.ParticipantURL(p); got != "https://collector.univ-example.fr/coachco2/studies/mobility-la-rochelle-2026/participants/"+p {
		t.Fatalf("ParticipantURL = %s", got)
	}
	// Round trip.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseDescriptor(b)
	if err != nil || !reflect.DeepEqual(d, again) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, d, again)
	}
}

func TestDescriptorErrors(t *testing.T) {
	base, err := os.ReadFile("testdata/descriptor.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name  string
		doc   []byte
		code  Code
		field string
	}{
		{"not JSON", []byte(`{"id":`), CodeMalformedJSON, ""},
		{"trailing data", append(append([]byte{}, base...), []byte(`{}`)...), CodeMalformedJSON, ""},
		{"misspelt field", edit(func(m map[string]any) { m["kmin"] = 5 }), CodeUnknownField, "kmin"},
		{"id", edit(func(m map[string]any) { m["id"] = "Mobility 2026" }), CodeInvalidID, "id"},
		{"id in a path", edit(func(m map[string]any) { m["id"] = "../admin" }), CodeInvalidID, "id"},
		{"version", edit(func(m map[string]any) { m["version"] = 0 }), CodeInvalidVersion, "version"},
		{"no title", edit(func(m map[string]any) { delete(m, "title") }), CodeMissingField, "title"},
		{"no English purpose", edit(func(m map[string]any) { m["purpose"] = map[string]string{"fr": "x"} }), CodeMissingField, "purpose.en"},
		{"http URL", edit(func(m map[string]any) { m["collector_url"] = "http://collector.example.org" }), CodeInsecureURL, "collector_url"},
		{"URL with a password", edit(func(m map[string]any) { m["collector_url"] = "https://u:p@collector.example.org" }), CodeInvalidURL, "collector_url"},
		{"relative URL", edit(func(m map[string]any) { m["collector_url"] = "/collector" }), CodeInvalidURL, "collector_url"},
		{"no measure", edit(func(m map[string]any) { m["measures"] = []string{} }), CodeMissingField, "measures"},
		{"unknown measure", edit(func(m map[string]any) { m["measures"] = []string{"co2_monthly_kg", "gps_traces"} }), CodeUnknownMeasure, "measures[1]"},
		{"measure twice", edit(func(m map[string]any) { m["measures"] = []string{"co2_monthly_kg", "co2_monthly_kg"} }), CodeDuplicateMeasure, "measures[1]"},
		{"period backwards", edit(func(m map[string]any) { m["period"] = map[string]string{"from": "2026-06", "to": "2026-01"} }), CodeInvalidPeriod, "period"},
		{"period as days", edit(func(m map[string]any) { m["period"] = map[string]string{"from": "2026-01-01", "to": "2026-12-31"} }), CodeInvalidPeriod, "period"},
		{"period as a year", edit(func(m map[string]any) { m["period"] = map[string]string{"from": "2026", "to": "2026-12"} }), CodeInvalidPeriod, "period.from"},
		{"no period", edit(func(m map[string]any) { delete(m, "period") }), CodeInvalidPeriod, "period.from"},
		{"k = 1", edit(func(m map[string]any) { m["k"] = 1 }), CodeKTooSmall, "k"},
		{"no retention", edit(func(m map[string]any) { delete(m, "retention_months") }), CodeInvalidRetention, "retention_months"},
		{"profile field all", edit(func(m map[string]any) {
			m["profile_fields"] = []any{map[string]any{"name": "all", "label": map[string]string{"fr": "a", "en": "a"}, "values": []string{"x"}}}
		}), CodeInvalidProfileField, "profile_fields[0].name"},
		{"free-text profile value", edit(func(m map[string]any) {
			m["profile_fields"] = []any{map[string]any{"name": "job", "label": map[string]string{"fr": "a", "en": "a"}, "values": []string{"nurse at the hospital"}}}
		}), CodeInvalidProfileField, "profile_fields[0].values[0]"},
		{"profile without values", edit(func(m map[string]any) {
			m["profile_fields"] = []any{map[string]any{"name": "job", "label": map[string]string{"fr": "a", "en": "a"}}}
		}), CodeInvalidProfileField, "profile_fields[0].values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDescriptor(tc.doc)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v is not an Errors", err)
			}
			for _, e := range es {
				if e.Code == tc.code && e.Field == tc.field {
					if e.Message == "" {
						t.Fatal("empty message")
					}
					return
				}
			}
			t.Fatalf("no %s at %q in %v", tc.code, tc.field, es)
		})
	}
	// Every problem at once.
	_, err = ParseDescriptor(edit(func(m map[string]any) { m["k"] = 0; m["version"] = 0; m["collector_url"] = "ftp://x" }))
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	var one *Error
	if !errors.As(err, &one) {
		t.Fatal("errors.As does not find an *Error")
	}
}

func TestCollectorURL(t *testing.T) {
	for _, ok := range []string{"https://c.example.org", "https://c.example.org:8443/base/", "http://127.0.0.1:8099", "http://localhost:8099", "http://[::1]:8099"} {
		if err := CheckCollectorURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://c.example.org", "http://10.0.0.1", "https://c.example.org?x=1", "https://c.example.org#f", "c.example.org", "mailto:a@b"} {
		if err := CheckCollectorURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPeriod(t *testing.T) {
	for _, s := range []string{"2026-01", "2026-12", "2026", "2999-06"} {
		p, err := ParsePeriod(s)
		if err != nil || p.String() != s {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"", "2026-1", "2026-13", "2026-00", "2026-01-15", "2026-01T00", "26-01", "1999-01", "20260", "2026/01", "２０２６", "-2026", "+026"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	p := Month(2026, time.December)
	if p.Next() != Month(2027, time.January) || Year(2026).Next() != Year(2027) {
		t.Error("Next")
	}
	if !p.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || !Year(2026).End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("End")
	}
	s := Span{From: Month(2025, time.November), To: Month(2026, time.February)}
	if got := len(s.Periods(Monthly)); got != 4 {
		t.Errorf("months of the span: %d", got)
	}
	if got := s.Periods(Yearly); len(got) != 2 || got[0] != Year(2025) {
		t.Errorf("years of the span: %v", got)
	}
	if !s.Covers(Year(2025)) || s.Covers(Year(2027)) || s.Covers(Month(2025, time.October)) || !s.Covers(Month(2026, time.February)) {
		t.Error("Covers")
	}
}

func TestCatalogue(t *testing.T) {
	for _, m := range Catalogue() {
		if m.Unit == "" || m.Granularity == "" || m.Max <= m.Min || m.Title.FR == "" || m.Title.EN == "" {
			t.Errorf("%s: incomplete %+v", m.ID, m)
		}
		if (m.Categories == NoCategory) != (m.CategoryList() == nil) {
			t.Errorf("%s: categories", m.ID)
		}
	}
	if _, ok := LookupMeasure("steps"); ok {
		t.Error("an unknown measure is found")
	}
	if len(Modes()) != 21 || len(Purposes()) != 11 {
		t.Errorf("%d modes, %d purposes", len(Modes()), len(Purposes()))
	}
}

// check parses a one-contribution batch and checks it against the example study at 2026-07-15.
func check(t *testing.T, d *Descriptor, entry string) error {
	t.Helper()
	b, err := ParseBatch([]byte(`{"contributions":[` + entry + `]}`))
	if err != nil {
		return err
	}
	return d.CheckBatch(b, time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC))
}

const pseudo = "0123456789abcdef0123456789abcdef"

func TestContributions(t *testing.T) {
	d := loadDescriptor(t)
	head := `"study_id":"mobility-la-rochelle-2026","study_version":1,"pseudonym":"` + pseudo + `",`
	for _, ok := range []string{
		`"measure":"co2_monthly_kg","period":"2026-06","value":0`,
		`"measure":"co2_monthly_kg","period":"2026-01","value":20000,"profile":{"age_band":"60+"}`,
		`"measure":"distance_monthly_km_by_mode","period":"2026-06","values":{}`,
		`"measure":"distance_monthly_km_by_mode","period":"2026-06","values":{"BICYCLING":12.5,"CAR":300}`,
		`"measure":"modal_share_monthly","period":"2026-06","values":{"BICYCLING":0.25,"CAR":0.749}`,
		// June ends at 2026-07-01T00:00Z; east of Greenwich it ended up to 14 h earlier.
		`"measure":"co2_monthly_kg","period":"2026-06","value":1,"profile":null`,
	} {
		if err := check(t, d, "{"+head+ok+"}"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		entry string
		code  Code
		field string
	}{
		{`"measure":"co2_monthly_kg","period":"2026-06","value":20000.5`, CodeOutOfRange, "contributions[0].value"},
		{`"measure":"co2_monthly_kg","period":"2026-06","values":{"CAR":1}`, CodeWrongValueShape, "contributions[0].value"},
		{`"measure":"co2_monthly_kg","period":"2026-06"`, CodeWrongValueShape, "contributions[0].value"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":null`, CodeInvalidType, "contributions[0].value"},
		{`"measure":"distance_monthly_km_by_mode","period":"2026-06","values":{"CAR":-1}`, CodeOutOfRange, "contributions[0].values.CAR"},
		{`"measure":"distance_monthly_km_by_mode","period":"2026-06","values":{"CAR":{"lat":1}}`, CodeInvalidType, "contributions[0].values"},
		{`"measure":"modal_share_monthly","period":"2026-06","values":{"CAR":1.5}`, CodeOutOfRange, "contributions[0].values.CAR"},
		{`"measure":"modal_share_monthly","period":"2026-06","values":{"CAR":0.6,"BUS":0.6}`, CodeInvalidShares, "contributions[0].values"},
		{`"measure":"trips_monthly_by_purpose","period":"2026-06","values":{"WORK":1}`, CodeMeasureNotRequested, "contributions[0].measure"},
		{`"measure":"bike_commute_days_yearly","period":"2026","value":10`, CodePeriodNotComplete, "contributions[0].period"},
		{`"measure":"bike_commute_days_yearly","period":"2025","value":10`, CodePeriodOutsideStudy, "contributions[0].period"},
		{`"measure":"bike_commute_days_yearly","period":"2026-01","value":10`, CodePeriodGranularity, "contributions[0].period"},
		{`"measure":"co2_monthly_kg","period":"2027-01","value":1`, CodePeriodOutsideStudy, "contributions[0].period"},
		{`"measure":"co2_monthly_kg","period":202606,"value":1`, CodeInvalidType, "contributions[0].period"},
		{`"measure":"co2_monthly_kg","value":1`, CodeMissingField, "contributions[0].period"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"profile":{"age_band":"37"}`, CodeProfileValueNotAllowed, "contributions[0].profile.age_band"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"profile":{"age_band":"30-44","zip":"17000"}`, CodeUnknownProfileField, "contributions[0].profile.zip"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"profile":{"age_band":1}`, CodeInvalidType, "contributions[0].profile"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"latitude":46.1`, CodeIdentifyingField, "contributions[0].latitude"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"timestamp":1760000000`, CodeIdentifyingField, "contributions[0].timestamp"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"place":"home"`, CodeIdentifyingField, "contributions[0].place"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"name":"Alice"`, CodeIdentifyingField, "contributions[0].name"},
		{`"measure":"co2_monthly_kg","period":"2026-06","value":1,"x":1`, CodeUnknownField, "contributions[0].x"},
	} {
		err := check(t, d, "{"+head+tc.entry+"}")
		var es Errors
		if !errors.As(err, &es) || !hasAt(es, tc.code, tc.field) {
			t.Errorf("%s: want %s at %s, got %v", tc.entry, tc.code, tc.field, err)
		}
	}
	// Study, version, pseudonym.
	for _, tc := range []struct {
		entry string
		code  Code
	}{
		{`{"study_id":"other-study","study_version":1,"pseudonym":"` + pseudo + `","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeStudyMismatch},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":2,"pseudonym":"` + pseudo + `","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeVersionMismatch},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":1.5,"pseudonym":"` + pseudo + `","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeInvalidType},
		{`{"study_id":"mobility-la-rochelle-2026","pseudonym":"` + pseudo + `","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeMissingField},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":1,"pseudonym":"` + strings.ToUpper(pseudo) + `","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeMalformedPseudonym},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":1,"pseudonym":"alice@example.org","measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeMalformedPseudonym},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":1,"measure":"co2_monthly_kg","period":"2026-06","value":1}`, CodeMissingField},
		{`{"study_id":"mobility-la-rochelle-2026","study_version":1,"pseudonym":"` + pseudo + `","measure":"steps","period":"2026-06","value":1}`, CodeUnknownMeasure},
	} {
		err := check(t, d, tc.entry)
		var es Errors
		if !errors.As(err, &es) || !es.Has(tc.code) {
			t.Errorf("%s: want %s, got %v", tc.entry, tc.code, err)
		}
	}
}

func hasAt(es Errors, c Code, field string) bool {
	for _, e := range es {
		if e.Code == c && e.Field == field {
			return true
		}
	}
	return false
}

func TestBatch(t *testing.T) {
	d := loadDescriptor(t)
	now := time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)
	v := 10.0
	c := Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: pseudo, Measure: CO2Monthly, Period: Month(2026, time.March), Value: &v}
	other := c
	other.Pseudonym = strings.Repeat("f", 32)
	var es Errors
	if err := d.CheckBatch(Batch{Contributions: []Contribution{c, other}}, now); !errors.As(err, &es) || !es.Has(CodeMixedPseudonyms) {
		t.Errorf("two pseudonyms: %v", err)
	}
	if err := d.CheckBatch(Batch{Contributions: []Contribution{c, c}}, now); !errors.As(err, &es) || !es.Has(CodeDuplicateContribution) {
		t.Errorf("twice the same: %v", err)
	}
	if err := d.CheckBatch(Batch{}, now); !errors.As(err, &es) || !es.Has(CodeEmptyBatch) {
		t.Errorf("empty: %v", err)
	}
	many := make([]Contribution, MaxBatchEntries+1)
	if err := d.CheckBatch(Batch{Contributions: many}, now); !errors.As(err, &es) || !es.Has(CodeTooManyContributions) {
		t.Errorf("too many: %v", err)
	}
	// JSON round trip, an empty "values" kept.
	dist := Contribution{StudyID: d.ID, StudyVersion: 1, Pseudonym: pseudo, Measure: DistanceMonthlyByMode, Period: Month(2026, time.March), Values: map[string]float64{}}
	b, err := json.Marshal(Batch{Contributions: []Contribution{c, dist}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"values":{}`) || !strings.Contains(string(b), `"period":"2026-03"`) {
		t.Fatalf("marshalled: %s", b)
	}
	got, err := ParseBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CheckBatch(got, now); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Contributions, []Contribution{c, dist}) {
		t.Fatalf("round trip:\n%+v\n%+v", got.Contributions, []Contribution{c, dist})
	}
	// Cells fill the categories left out with 0.
	cells := dist.Cells()
	if len(cells) != len(Modes()) || cells["CAR"] != 0 {
		t.Fatalf("cells: %v", cells)
	}
	if cells := c.Cells(); len(cells) != 1 || cells[""] != 10 {
		t.Fatalf("cells: %v", cells)
	}
	// Oversized.
	if _, err := ParseBatch(make([]byte, MaxBatchBytes+1)); !errors.As(err, &es) || !es.Has(CodeTooLong) {
		t.Errorf("oversized: %v", err)
	}
	// UnmarshalJSON validates the shape too.
	var one Contribution
	if err := json.Unmarshal([]byte(`{"lat":1}`), &one); err == nil {
		t.Error("json.Unmarshal accepts coordinates")
	}
}

func TestErrorsMessage(t *testing.T) {
	es := Errors{{Code: CodeOutOfRange, Field: "a", Message: "one"}, {Code: CodeOutOfRange, Field: "b", Message: "two"},
		{Code: CodeOutOfRange, Message: "three"}, {Code: CodeOutOfRange, Message: "four"}}
	if got := es.Error(); got != "4 problems: a: one; b: two; three; and 1 more" {
		t.Fatal(got)
	}
}
