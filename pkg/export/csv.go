// Package export writes a person's trips out of the vault in open formats, for them to keep:
// CSV (one row per section, the existing Coach CO2 app's columns) and GeoJSON (one Feature per
// section), both streamed trip by trip; and the PDF sworn statement of a year's bike-commute days
// for the French "Forfait Mobilités Durables" (WriteAttestationPDF).
package export

import (
	"fmt"
	"io"

	"github.com/coachco2/coachco2/pkg/csvsafe"
	"github.com/coachco2/coachco2/pkg/trip"
)

// CSVHeader is the existing app's column list, then the trip's title as shown (the person's, else
// the automatic one).
var CSVHeader = []string{"Trip_Id", "Trip_Start_Date", "Trip_End_Date", "Trip_Start_Display_Name",
	"Trip_Arrival_Display_Name", "Trip_Purpose", "Section_Start_Date", "Section_End_Date", "Section_Duration",
	"Section_Distance", "Section_Mode", "Section_Coordinates", "Section_Distances", "Section_Timestamps", "Section_Speeds", "Trip_Title"}

// CSVWriter writes trips as CSV, one row per section, quoted and escaped as RFC 4180 says
// (encoding/csv), numbers written in full (0 is "0", never an empty cell). Text cells that a
// spreadsheet would run as a formula (a place named "=HYPERLINK(…)") start with a single quote
// (pkg/csvsafe); numbers stay numbers.
type CSVWriter struct {
	w      *csvsafe.Writer
	header bool
}

// NewCSVWriter returns a writer to out.
func NewCSVWriter(out io.Writer) *CSVWriter {
	return &CSVWriter{w: csvsafe.NewWriter(out)}
}

// Write writes the rows of one trip: its sections with the modes and purpose of its aggregation.
func (c *CSVWriter) Write(doc *trip.Doc, a trip.Aggregation) error {
	if !c.header {
		if err := c.w.Write(csvsafe.Texts(CSVHeader...)...); err != nil {
			return err
		}
		c.header = true
	}
	tracks, err := sectionTracks(doc)
	if err != nil {
		return fmt.Errorf("export trip %s: %w", doc.ID, err)
	}
	for i, s := range a.Sections {
		var track trip.Track
		if i < len(tracks) {
			track = tracks[i]
		}
		row := []csvsafe.Cell{csvsafe.Text(doc.ID), csvsafe.Text(doc.StartDate), csvsafe.Text(doc.EndDate),
			csvsafe.Text(a.StartPlaceDisplayName), csvsafe.Text(a.EndPlaceDisplayName), csvsafe.Text(string(a.Purpose)),
			csvsafe.Text(s.StartDate), csvsafe.Text(s.EndDate), csvsafe.Number(s.Duration), csvsafe.Number(s.Distance),
			csvsafe.Text(string(s.Mode)),
			csvsafe.Text(rawOrEmptyList(track.Coordinates)), csvsafe.Text(rawOrEmptyList(track.Distances)),
			csvsafe.Text(rawOrEmptyList(track.Timestamps)), csvsafe.Text(rawOrEmptyList(track.Speeds)),
			csvsafe.Text(a.ShownTitle())}
		if err := c.w.Write(row...); err != nil {
			return fmt.Errorf("export trip %s: %w", doc.ID, err)
		}
	}
	return nil
}

// Flush writes what is buffered and reports a write error.
func (c *CSVWriter) Flush() error {
	if !c.header {
		if err := c.w.Write(csvsafe.Texts(CSVHeader...)...); err != nil {
			return err
		}
		c.header = true
	}
	return c.w.Flush()
}

// sectionTracks returns the tracks of the trip's sections, in order: none for a trip without a
// series, whose sections are then written without their points.
func sectionTracks(doc *trip.Doc) ([]trip.Track, error) {
	if len(doc.Series) == 0 {
		return nil, nil
	}
	sections, err := doc.Sections()
	tracks := make([]trip.Track, len(sections))
	for i, s := range sections {
		tracks[i] = s.Track
	}
	return tracks, err
}

// rawOrEmptyList returns a track's list as the series holds it, "[]" when it has none.
func rawOrEmptyList(raw []byte) string {
	if len(raw) == 0 {
		return "[]"
	}
	return string(raw)
}
