package export

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/coachco2/coachco2/pkg/trip"
)

// GeoJSONWriter writes the trips of a period as one GeoJSON FeatureCollection (RFC 7946): one
// Feature per section, its geometry a LineString of the section's tracked positions, its
// properties the section's and its trip's figures (see GeoJSONProperties).
//
// It streams: each Write encodes one trip's features and passes them on, so an export of years of
// trips never holds more than one trip. Close ends the collection; a collection with no trip is
// the valid, empty {"type":"FeatureCollection","features":[]}.
type GeoJSONWriter struct {
	w       *bufio.Writer
	started bool
	closed  bool
	count   int
	err     error
}

// GeoJSONProperties are the properties of one section's Feature.
type GeoJSONProperties struct {
	TripID    string `json:"trip_id"`
	TripStart string `json:"trip_start"` // the trip's start, ISO 8601 in its local time with offset
	TripEnd   string `json:"trip_end"`
	// StartPlace and EndPlace are the trip's geocoded place names, when the server gave them.
	StartPlace string `json:"start_place,omitempty"`
	EndPlace   string `json:"end_place,omitempty"`
	// TripTitle is the trip's title as shown: the person's, else the automatic one.
	TripTitle    string  `json:"trip_title"`
	Purpose      string  `json:"purpose"`
	SectionIndex int     `json:"section_index"` // position among the trip's sections, from 0
	Mode         string  `json:"mode"`
	DistanceM    float64 `json:"distance_m"`
	DurationS    float64 `json:"duration_s"`
	CO2Kg        float64 `json:"co2_kg"`
	StartDate    string  `json:"start_date"` // the section's start, ISO 8601 with offset
	EndDate      string  `json:"end_date"`
}

const geoJSONHead = `{"type":"FeatureCollection","features":[`

// NewGeoJSONWriter returns a writer to out. Close must be called to end the document; it does not
// close out.
func NewGeoJSONWriter(out io.Writer) *GeoJSONWriter {
	return &GeoJSONWriter{w: bufio.NewWriter(out)}
}

// Write writes the features of one trip: its sections, with the modes, purpose and figures of
// its aggregation. A section whose series has fewer than two valid positions gets a null
// geometry, which RFC 7946 allows for an unlocated feature.
func (g *GeoJSONWriter) Write(doc *trip.Doc, a trip.Aggregation) error {
	if g.closed {
		return errors.New("geojson export: write after close")
	}
	if err := g.begin(); err != nil {
		return err
	}
	tracks, err := sectionTracks(doc)
	if err != nil {
		return fmt.Errorf("geojson export of trip %s: %w", doc.ID, err)
	}
	buf := make([]byte, 0, 1024)
	for i, s := range a.Sections {
		var track trip.Track
		if i < len(tracks) {
			track = tracks[i]
		}
		props, err := json.Marshal(GeoJSONProperties{
			TripID: doc.ID, TripStart: doc.StartDate, TripEnd: doc.EndDate,
			StartPlace: a.StartPlaceDisplayName, EndPlace: a.EndPlaceDisplayName, TripTitle: a.ShownTitle(),
			Purpose: string(a.Purpose), SectionIndex: i, Mode: string(s.Mode),
			DistanceM: s.Distance, DurationS: s.Duration, CO2Kg: s.CO2,
			StartDate: s.StartDate, EndDate: s.EndDate,
		})
		if err != nil {
			return fmt.Errorf("geojson export of trip %s, section %d: %w", doc.ID, i, err)
		}
		buf = buf[:0]
		if g.count > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"type":"Feature","geometry":`...)
		buf = appendLineString(buf, track.Positions())
		buf = append(buf, `,"properties":`...)
		buf = append(buf, props...)
		buf = append(buf, '}', '\n')
		if _, err := g.w.Write(buf); err != nil {
			return g.fail(fmt.Errorf("geojson export of trip %s: %w", doc.ID, err))
		}
		g.count++
	}
	return nil
}

// Close ends the FeatureCollection and flushes it to the writer. It reports the first write
// error; a second Close does nothing.
func (g *GeoJSONWriter) Close() error {
	if g.closed {
		return g.err
	}
	g.closed = true
	if err := g.begin(); err != nil {
		return err
	}
	if _, err := g.w.WriteString("]}\n"); err != nil {
		return g.fail(fmt.Errorf("geojson export: %w", err))
	}
	if err := g.w.Flush(); err != nil {
		return g.fail(fmt.Errorf("geojson export: %w", err))
	}
	return nil
}

func (g *GeoJSONWriter) begin() error {
	if g.err != nil {
		return g.err
	}
	if !g.started {
		g.started = true
		if _, err := g.w.WriteString(geoJSONHead); err != nil {
			return g.fail(fmt.Errorf("geojson export: %w", err))
		}
	}
	return nil
}

func (g *GeoJSONWriter) fail(err error) error {
	if g.err == nil {
		g.err = err
	}
	return g.err
}

// appendLineString appends a LineString geometry of the valid positions (see
// [trip.Track.Positions]), or null when there are fewer than two. Numbers are written back in
// their shortest exact form, so coordinates survive unchanged.
func appendLineString(buf []byte, positions []trip.Position) []byte {
	if len(positions) < 2 {
		return append(buf, "null"...)
	}
	buf = append(buf, `{"type":"LineString","coordinates":[`...)
	for i, p := range positions {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendFloat(buf, p.Lon, 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, p.Lat, 'g', -1, 64)
		if p.HasAlt {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, p.Alt, 'g', -1, 64)
		}
		buf = append(buf, ']')
	}
	return append(buf, "]}"...)
}
