// Package export writes a person's trips out of the vault in open formats, for them to keep:
// CSV (one row per section, the existing Coach CO2 app's columns) and GeoJSON (one Feature per
// section), both streamed trip by trip; and the PDF sworn statement of a year's bike-commute days
// for the French "Forfait Mobilités Durables" (WriteAttestationPDF).
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/trip"
)

// CSVHeader is the existing app's column list.
var CSVHeader = []string{"Trip_Id", "Trip_Start_Date", "Trip_End_Date", "Trip_Start_Display_Name",
	"Trip_Arrival_Display_Name", "Trip_Purpose", "Section_Start_Date", "Section_End_Date", "Section_Duration",
	"Section_Distance", "Section_Mode", "Section_Coordinates", "Section_Distances", "Section_Timestamps", "Section_Speeds"}

// CSVWriter writes trips as CSV, one row per section, quoted and escaped as RFC 4180 says
// (encoding/csv), numbers written in full (0 is "0", never an empty cell).
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter returns a writer to out.
func NewCSVWriter(out io.Writer) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(out)}
}

// Write writes the rows of one trip: its sections with the modes and purpose of its aggregation.
func (c *CSVWriter) Write(doc *trip.Doc, a trip.Aggregation) error {
	if !c.header {
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
		c.header = true
	}
	sections := sectionFeatures(doc)
	for i, s := range a.Sections {
		geo := gjson.Result{}
		if i < len(sections) {
			geo = sections[i]
		}
		row := []string{doc.ID, doc.StartDate, doc.EndDate, a.StartPlaceDisplayName, a.EndPlaceDisplayName, string(a.Purpose),
			s.StartDate, s.EndDate, number(s.Duration), number(s.Distance), string(s.Mode),
			rawOrEmptyList(geo.Get("geometry.coordinates")), rawOrEmptyList(geo.Get("properties.distances")),
			rawOrEmptyList(geo.Get("properties.timestamps")), rawOrEmptyList(geo.Get("properties.speeds"))}
		if err := c.w.Write(row); err != nil {
			return fmt.Errorf("export trip %s: %w", doc.ID, err)
		}
	}
	return nil
}

// Flush writes what is buffered and reports a write error.
func (c *CSVWriter) Flush() error {
	if !c.header {
		if err := c.w.Write(CSVHeader); err != nil {
			return err
		}
		c.header = true
	}
	c.w.Flush()
	return c.w.Error()
}

func sectionFeatures(doc *trip.Doc) []gjson.Result {
	if len(doc.Series) == 0 {
		return nil
	}
	var out []gjson.Result
	for _, f := range gjson.GetBytes(doc.Series[0], "features").Array() {
		if f.Get("type").String() == "FeatureCollection" {
			out = append(out, f.Get("features.0"))
		}
	}
	return out
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func rawOrEmptyList(r gjson.Result) string {
	if !r.Exists() {
		return "[]"
	}
	return r.Raw
}
