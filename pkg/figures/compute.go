// Package figures computes each trip's figures (its aggregation: modes, CO2, distance,
// calories, purpose, title) and keeps them current in the figures cache, beside the trips.
//
// A trip's figures are computed from its facts (Facts: its route without the tracked points, its
// labels and the person's corrections) with the inputs in force (Inputs: the factor set and the
// settings that change figures). The cache keeps both, per calendar month, in _local documents of
// the trips database; trip documents are never written for their figures. So:
//   - a report reads a few month documents, not every trip;
//   - new settings compute every trip's figures again from the cached facts, reading and writing
//     no trip;
//   - a trip changed (a sync, a correction) is read again, and only it, found through the changes
//     feed;
//   - the connector puts the facts and figures of the trips it writes into the cache itself (Feed),
//     so that the first Refresh after a sync reads back none of them.
//
// No figure is ever frozen: whatever changes, Refresh recomputes what it affects, and nothing else.
package figures

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
)

// EngineVersion changes whenever Compute's results change for the same inputs, so that stored
// aggregations are recomputed.
const EngineVersion = 2

// Inputs are what figures depend on besides the trip.
type Inputs struct {
	Set      *co2.FactorSet
	Settings settings.Settings
	// settingsHash caches Settings.FiguresHash.
	settingsHash string
}

// NewInputs prepares inputs for many trips.
func NewInputs(set *co2.FactorSet, s settings.Settings) Inputs {
	return Inputs{Set: set, Settings: s, settingsHash: s.FiguresHash()}
}

// stamp returns the stamp of figures computed now from a trip whose content hashes to tripHash.
func (in Inputs) stamp(tripHash string) trip.Stamp {
	s := in.Stamp()
	s.Trip = tripHash
	return s
}

// tripHash is the hash of what a trip's figures depend on in the trip itself.
func tripHash(server trip.ServerInfo, labels trip.Labels, manual json.RawMessage) string {
	h := sha256.New()
	lb, _ := json.Marshal(labels)
	fmt.Fprintf(h, "%s\x00%s\x00", server.Hash, lb)
	h.Write(manual)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Compute computes a trip's aggregation.
//
// A section's mode is, in order: the mode the person chose for that section in the app; the mode
// they chose for the whole trip in the app; the phone's trip label; the person's default mode for
// the sensed mode's group; the sensed mode. A mode for the whole trip (from the app or the phone)
// applies to the trip's non-walking sections, to all of them when every one is walking. A trip
// labelled not_a_trip gets NotATrip and counts in no indicator. The purpose is the person's (set in
// the app), else the phone's purpose label, else one copied from a similar recurring trip, else
// COMMUTE for a trip between home and work, else UNKNOWN.
func Compute(doc *trip.Doc, in Inputs) (trip.Aggregation, error) {
	f, err := FactsOf(doc)
	if err != nil {
		return trip.Aggregation{}, err
	}
	return f.Compute(in)
}

// Compute computes the aggregation of the trip these are the facts of (see the package's
// Compute).
func (f *Facts) Compute(in Inputs) (trip.Aggregation, error) {
	var a trip.Aggregation
	manual, err := f.manual()
	if err != nil {
		return a, err
	}
	var label co2.LabelMode
	if f.ModeLabel != nil {
		label = co2.ModeOfLabel(*f.ModeLabel)
	}
	sections := f.Sections
	sensed := make([]trip.Mode, len(sections))
	for i, s := range sections {
		sensed[i] = co2.SensedMode(s.SensedMode)
	}
	applies := co2.LabelAppliesTo(sensed)
	defaults := co2.Defaults(in.Settings.DefaultModes)

	a.Stamp = in.stamp(f.Trip)
	a.NotATrip = label.NotATrip
	a.StartTS = f.StartTS
	a.LocalStart = f.LocalStart
	seen := map[trip.Mode]bool{}
	for i, s := range sections {
		lm := co2.LabelMode{}
		if applies[i] && !label.NotATrip {
			lm = label
		}
		chosen := manual.SectionModes[strconv.Itoa(i)]
		if chosen == "" && applies[i] {
			chosen = manual.Mode
		}
		mode := co2.Resolve(chosen, lm, defaults, sensed[i])
		sa := trip.SectionAggregate{
			ID:        s.ID,
			Mode:      mode,
			CO2:       in.Set.SectionCO2(mode, s.Distance),
			Calories:  co2.Calories(mode, s.Distance, s.Duration),
			AvgSpeed:  co2.AvgSpeedKmh(s.Distance, s.Duration),
			Distance:  s.Distance,
			Duration:  s.Duration,
			StartDate: s.StartDate,
			EndDate:   s.EndDate,
		}
		if lm.Label != "" && !lm.Known && chosen == "" {
			sa.LabelValue = lm.Label
		}
		a.Sections = append(a.Sections, sa)
		a.TotalCO2 += sa.CO2
		a.TotalDistance += sa.Distance
		a.TotalDuration += sa.Duration
		a.TotalCalories += sa.Calories
		if !seen[mode] {
			seen[mode] = true
			a.Modes = append(a.Modes, mode)
		}
	}
	start, end, hasEnds := f.Start, f.End, f.HasEnds
	if hasEnds {
		a.Coordinates.StartPoint, a.Coordinates.EndPoint = start, end
	}
	a.StartPlaceDisplayName, a.EndPlaceDisplayName = f.StartPlace, f.EndPlace
	a.Recurring = manual.Recurring
	a.Purpose = purpose(f.PurposeLabel, manual, in.Settings, start, end, hasEnds)
	a.AutomaticTitle = title(a, in.Settings, hasEnds)
	a.Title = manual.Title
	return a, nil
}

func purpose(label *string, manual trip.Manual, s settings.Settings, start, end trip.Point, hasEnds bool) trip.Purpose {
	if manual.Purpose != "" && manual.PurposeFrom != "recurring" {
		return manual.Purpose
	}
	// A purpose copied from a recurring trip never hides the phone's (even one labelled after
	// the copy).
	if label != nil {
		if p, _ := co2.PurposeOfLabel(*label); p != trip.UnknownPurpose {
			return p
		}
	}
	if manual.Purpose != "" {
		return manual.Purpose
	}
	if hasEnds && places.IsCommute(start, end, s.Home, s.Work) {
		return trip.Commute
	}
	return trip.UnknownPurpose
}

// title is "Start ➝ End" with the server's place names, else the person's home and work, else
// the coordinates.
func title(a trip.Aggregation, s settings.Settings, hasEnds bool) string {
	name := func(display string, p trip.Point) string {
		switch {
		case display != "":
			return display
		case !hasEnds:
			return "?"
		case s.Home != nil && places.Distance(p, s.Home.Point()) <= places.CommuteRadius:
			return placeLabel(s.Home, "Home")
		case s.Work != nil && places.Distance(p, s.Work.Point()) <= places.CommuteRadius:
			return placeLabel(s.Work, "Work")
		}
		return fmt.Sprintf("%.4f, %.4f", p.Lat, p.Lon)
	}
	return name(a.StartPlaceDisplayName, a.Coordinates.StartPoint) + " ➝ " + name(a.EndPlaceDisplayName, a.Coordinates.EndPoint)
}

func placeLabel(p *places.Place, def string) string {
	if p.Label != "" {
		return p.Label
	}
	return def
}
