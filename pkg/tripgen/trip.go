package tripgen

import (
	"time"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// Mode is the mode of a section, as e-mission's PredictedModeTypes infers it.
type Mode int

// Modes, with e-mission's PredictedModeTypes values.
const (
	Walking   Mode = 1
	Bicycling Mode = 2
	Bus       Mode = 3
	Train     Mode = 4
	Car       Mode = 5
	AirOrHSR  Mode = 6
)

// String returns the enum name, e.g. "BICYCLING".
func (m Mode) String() string {
	switch m {
	case Walking:
		return "WALKING"
	case Bicycling:
		return "BICYCLING"
	case Bus:
		return "BUS"
	case Train:
		return "TRAIN"
	case Car:
		return "CAR"
	case AirOrHSR:
		return "AIR_OR_HSR"
	}
	return "UNKNOWN"
}

// SensedMode returns the sensed_mode string of a timeline section, e.g.
// "PredictedModeTypes.BICYCLING".
func (m Mode) SensedMode() string { return "PredictedModeTypes." + m.String() }

// MotionType returns the older MotionTypes name of the mode, the key of cleaned_section_summary.
func (m Mode) MotionType() string {
	switch m {
	case Walking:
		return "ON_FOOT"
	case Bicycling:
		return "BICYCLING"
	case AirOrHSR:
		return "AIR_OR_HSR"
	}
	return "IN_VEHICLE"
}

// Trip is one generated trip: a sequence of sections separated by stops, between two places.
type Trip struct {
	// ID is the trip id (24 hex digits), the FeatureCollection id; RawTripID is its raw_trip.
	ID        string
	RawTripID string
	// From and To are where the trip starts and ends; StartPlaceID and EndPlaceID their ids. The end
	// place of a trip is the start place of the next one the same day.
	From, To                 Place
	StartPlaceID, EndPlaceID string
	// NextTripID and NextStart describe the trip leaving the end place later that day, if any.
	NextTripID string
	NextStart  float64
	// Purpose is what the user went there for, with e-mission's purpose labels ("work", "home", ...).
	Purpose string
	// Sections in time order; Stops[i] lies between Sections[i] and Sections[i+1].
	Sections []Section
	Stops    []Stop
	// ProcessedTS is when the pipeline wrote the trip (its entries' metadata.write_ts).
	ProcessedTS float64
	// Labels the user gave the trip, in the order they wrote them; may be empty.
	Labels []Label
	loc    *time.Location
}

// StartTS returns when the trip started, seconds since the epoch.
func (t *Trip) StartTS() float64 { return t.Sections[0].Points[0].TS }

// EndTS returns when the trip ended, seconds since the epoch.
func (t *Trip) EndTS() float64 {
	last := t.Sections[len(t.Sections)-1].Points
	return last[len(last)-1].TS
}

// Start returns the start time in the trip's local time zone.
func (t *Trip) Start() time.Time { return localTime(t.StartTS(), t.loc) }

// End returns the end time in the trip's local time zone.
func (t *Trip) End() time.Time { return localTime(t.EndTS(), t.loc) }

// Location returns the trip's time zone (Europe/Paris).
func (t *Trip) Location() *time.Location { return t.loc }

// Distance returns the trip's distance in meters: its sections and the moves between them.
func (t *Trip) Distance() float64 {
	var d float64
	for _, s := range t.Sections {
		d += s.Distance
	}
	for _, s := range t.Stops {
		d += s.Distance
	}
	return d
}

// MainMode returns the mode of the trip's longest section.
func (t *Trip) MainMode() Mode {
	best := t.Sections[0]
	for _, s := range t.Sections[1:] {
		if s.Distance > best.Distance {
			best = s
		}
	}
	return best.Mode
}

// Section is a part of a trip in one mode.
type Section struct {
	// ID is the section id (24 hex digits).
	ID string
	// Mode is how the user moved.
	Mode Mode
	// Points are the resampled positions, every 30 s.
	Points []Point
	// Distance is the sum of Points' distances, in meters.
	Distance float64
}

// Duration returns the section's duration in seconds.
func (s *Section) Duration() float64 { return s.Points[len(s.Points)-1].TS - s.Points[0].TS }

// Point is one resampled position of a section.
type Point struct {
	// Lon and Lat are in degrees.
	Lon, Lat float64
	// TS is the time, seconds since the epoch.
	TS float64
	// Speed is the speed over the step ending here, m/s; Distance that step's length, m (both 0
	// for the first point).
	Speed    float64
	Distance float64
}

// Stop is the pause between two sections (waiting for a bus, changing to a train).
type Stop struct {
	// ID is the stop id (24 hex digits).
	ID string
	// Enter is where the previous section ended, Exit where the next one starts.
	Enter, Exit Point
	// Distance between Enter and Exit, m.
	Distance float64
}

// Label is a user label entry for a trip.
type Label struct {
	// ID is the entry _id; Key is manual/mode_confirm or manual/purpose_confirm.
	ID  string
	Key string
	// Value is the label, e.g. "bike" or "work".
	Value string
	// StartTS and EndTS are the labelled span: the trip's, off by a few seconds as on real phones.
	StartTS, EndTS float64
	// WriteTS is when the user labelled the trip.
	WriteTS float64
}

func localTime(ts float64, loc *time.Location) time.Time { return openpath.TimeOf(ts).In(loc) }
