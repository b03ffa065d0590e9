package co2

import (
	"fmt"
	"math"
	"strings"

	"github.com/coachco2/coachco2/pkg/trip"
)

// DefaultSetID is the id of the default factor set, the existing Coach CO2 app's figures.
const DefaultSetID = "coachco2-ademe"

// ImpactCO2SetID is the id of the factor set taken from ADEME's "Mon Impact Transport" comparator.
const ImpactCO2SetID = "ademe-impactco2-2022"

// FactorSet is one versioned table of emission factors. A figure computed with a set is
// identified by the set's ID and Version: a change to any figure of a set gets a new Version.
type FactorSet struct {
	// ID names the set for good ("coachco2-ademe"); Version changes whenever a figure changes
	// ("2024.1"); Name is a short human title; Source says where the figures come from; Date is
	// when the figures were published, in ISO 8601 form ("2024-12", "2022").
	ID, Version, Name, Source, Date string
	// PerKm holds the gCO2e per passenger-km of every trip.Mode. For AIR_OR_HSR, when Plane is
	// not empty, PerKm holds the first band's figure for display only: GPerKm uses the bands.
	PerKm map[trip.Mode]float64
	// Plane holds the AIR_OR_HSR factor by section distance, bands in ascending order of UpToKm;
	// a last band with UpToKm 0 applies beyond the previous band. Empty means PerKm[AIR_OR_HSR].
	Plane []DistanceBand
	// Mapping says, for people, which of the source's categories each of our modes uses and how
	// (e.g. "mean of TGV 1.73, Intercités 5.29, TER 24.8").
	Mapping map[trip.Mode]string
}

// DistanceBand is one plane distance band: GPerKm applies to sections up to UpToKm kilometers
// (inclusive) and longer than the previous band's limit. UpToKm 0 means "without limit".
type DistanceBand struct {
	UpToKm, GPerKm float64
}

// Sets returns every known factor set, the default (DefaultSetID) first. Each call builds fresh
// values: the caller may change them without affecting any other caller.
func Sets() []*FactorSet {
	return []*FactorSet{coachCO2ADEME(), impactCO2()}
}

// Lookup returns a fresh copy of the factor set with the given id, or an error naming the known
// ids when there is none.
func Lookup(id string) (*FactorSet, error) {
	sets := Sets()
	ids := make([]string, len(sets))
	for i, s := range sets {
		if s.ID == id {
			return s, nil
		}
		ids[i] = s.ID
	}
	return nil, fmt.Errorf("co2: unknown factor set %q (known: %s)", id, strings.Join(ids, ", "))
}

// GPerKm returns the set's factor in gCO2e per passenger-km for a section of the given mode and
// distance (meters). The distance matters only for AIR_OR_HSR, whose factor is the first band
// whose UpToKm is at least the section's distance in km (or whose UpToKm is 0); a distance
// beyond every band uses the last band. A negative or NaN distance counts as 0. A mode the set
// does not list gets 0, like UNKNOWN.
func (s *FactorSet) GPerKm(mode trip.Mode, distanceM float64) float64 {
	if mode != trip.AirOrHSR || len(s.Plane) == 0 {
		return s.PerKm[mode]
	}
	km := 0.0
	if distanceM > 0 { // false for NaN too
		km = distanceM / 1000
	}
	for _, b := range s.Plane {
		if b.UpToKm == 0 || km <= b.UpToKm {
			return b.GPerKm
		}
	}
	return s.Plane[len(s.Plane)-1].GPerKm
}

// SectionCO2 returns what a section emitted, in kg of CO2e: distance (m) / 1000 × GPerKm / 1000.
// A distance that is negative, NaN or infinite is not a measure and gives 0.
func (s *FactorSet) SectionCO2(mode trip.Mode, distanceM float64) float64 {
	if !(distanceM > 0) || math.IsInf(distanceM, 1) {
		return 0
	}
	return distanceM / 1000 * s.GPerKm(mode, distanceM) / 1000
}

// Validate reports the first problem of the set: a missing id or version, a trip.Mode without a
// factor or a mapping, a factor that is negative or not finite, plane bands out of order.
func (s *FactorSet) Validate() error {
	if s.ID == "" || s.Version == "" {
		return fmt.Errorf("co2: factor set %q: id and version are required", s.ID)
	}
	for _, m := range trip.Modes() {
		g, ok := s.PerKm[m]
		if !ok {
			return fmt.Errorf("co2: factor set %s: no factor for %s", s.ID, m)
		}
		if !(g >= 0) || math.IsInf(g, 1) {
			return fmt.Errorf("co2: factor set %s: factor %v for %s is not a finite, non-negative number", s.ID, g, m)
		}
		if s.Mapping[m] == "" {
			return fmt.Errorf("co2: factor set %s: no mapping stated for %s", s.ID, m)
		}
	}
	prev := 0.0
	for i, b := range s.Plane {
		if !(b.GPerKm >= 0) || math.IsInf(b.GPerKm, 1) {
			return fmt.Errorf("co2: factor set %s: plane band %d: factor %v is not a finite, non-negative number", s.ID, i, b.GPerKm)
		}
		if b.UpToKm == 0 {
			if i != len(s.Plane)-1 {
				return fmt.Errorf("co2: factor set %s: plane band %d: only the last band may be unbounded", s.ID, i)
			}
			continue
		}
		if !(b.UpToKm > prev) || math.IsInf(b.UpToKm, 1) {
			return fmt.Errorf("co2: factor set %s: plane band %d: limit %v km does not follow %v km", s.ID, i, b.UpToKm, prev)
		}
		prev = b.UpToKm
	}
	return nil
}

// mean returns the arithmetic mean of its arguments.
func mean(values ...float64) float64 {
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

// coachCO2ADEME builds the existing Coach CO2 app's set (ADEME Base Carbone).
func coachCO2ADEME() *FactorSet {
	const (
		car         = 192.0
		carElectric = 19.8
	)
	var (
		bus    = mean(146, 137, 129)             // small, medium, large towns
		subway = mean(2.5, 2.2, 4.1, 4.72, 2.98) // cat. 182/183
		train  = mean(1.73, 5.29, 24.8)          // TGV, Intercités, TER
	)
	const zero = "0: no emission counted"
	return &FactorSet{
		ID:      DefaultSetID,
		Version: "2024.1",
		Name:    "Coach CO2 (ADEME Base Carbone)",
		Source: "the existing Coach CO2 app (Cozy, v0.24, December 2024), figures from ADEME Base Carbone; " +
			"gCO2e per passenger-km",
		Date: "2024-12",
		PerKm: map[trip.Mode]float64{
			trip.Walking: 0, trip.OnFoot: 0, trip.Running: 0,
			trip.Bicycling: 0, trip.BicyclingElectric: 0, trip.ScooterElectric: 0,
			trip.Car: car, trip.InVehicle: car,
			trip.CarElectric:     carElectric,
			trip.Carpool:         car / 2,
			trip.CarpoolElectric: carElectric / 2,
			trip.MotoInf250:      60.4,
			trip.MotoSup250:      165,
			trip.Moped:           64,
			trip.Bus:             bus,
			trip.BusElectric:     21.7,
			trip.Subway:          subway,
			trip.Tramway:         3,
			trip.Train:           train,
			trip.AirOrHSR:        258,
			trip.UnknownMode:     0,
		},
		Plane: []DistanceBand{{UpToKm: 1000, GPerKm: 258}, {UpToKm: 3500, GPerKm: 187}, {UpToKm: 0, GPerKm: 152}},
		Mapping: map[trip.Mode]string{
			trip.Walking:           zero,
			trip.OnFoot:            zero,
			trip.Running:           zero,
			trip.Bicycling:         zero,
			trip.BicyclingElectric: zero,
			trip.ScooterElectric:   zero,
			trip.Car:               "car, Base Carbone cat. 151: 192",
			trip.InVehicle:         "counted as a car, Base Carbone cat. 151: 192",
			trip.CarElectric:       "electric car, Base Carbone cat. 493, manufacture excluded: 19.8",
			trip.Carpool:           "car 192 ÷ 2 passengers: 96",
			trip.CarpoolElectric:   "electric car 19.8 ÷ 2 passengers: 9.9",
			trip.MotoInf250:        "motorbike < 250 cm³, Base Carbone cat. 164: 60.4",
			trip.MotoSup250:        "motorbike > 250 cm³, Base Carbone cat. 164: 165",
			trip.Moped:             "moped: 64",
			trip.Bus:               "mean of bus in small towns 146, medium towns 137, large towns 129 (Base Carbone cat. 530): 137.33…",
			trip.BusElectric:       "electric bus, Base Carbone cat. 531: 21.7",
			trip.Subway:            "mean of 2.5, 2.2, 4.1, 4.72, 2.98 (Base Carbone cat. 182/183): 3.3",
			trip.Tramway:           "tramway: 3",
			trip.Train:             "mean of TGV 1.73, Intercités 5.29, TER 24.8 (Base Carbone cat. 179/180): 10.6066…",
			trip.AirOrHSR:          "plane, Base Carbone cat. 547, contrails included, by section distance: 258 up to 1000 km, 187 up to 3500 km, 152 beyond",
			trip.UnknownMode:       zero,
		},
	}
}

// impactCO2 builds the set of ADEME's "Mon Impact Transport" comparator (impactco2.fr).
func impactCO2() *FactorSet {
	const (
		car         = 193.0
		carElectric = 19.8
		light       = 61.6 // scooter or light motorbike
		eBike       = 2.0  // e-bike or e-scooter
		plane       = 230.0
	)
	train := mean(1.73, 5.29, 24.8) // TGV, Intercités, TER
	const zero = "bike or walking: 0"
	return &FactorSet{
		ID:      ImpactCO2SetID,
		Version: "2022.1",
		Name:    "ADEME Mon Impact Transport (2022)",
		Source: "ADEME, Mon Impact Transport comparator (impactco2.fr), 2022 figures; gCO2e per passenger-km; " +
			"Coach 35.2 and Bus (natural gas) 113 are not used: no sensed mode or label tells them apart",
		Date: "2022",
		PerKm: map[trip.Mode]float64{
			trip.Walking: 0, trip.OnFoot: 0, trip.Running: 0, trip.Bicycling: 0,
			trip.BicyclingElectric: eBike, trip.ScooterElectric: eBike,
			trip.Car: car, trip.InVehicle: car,
			trip.CarElectric:     carElectric,
			trip.Carpool:         car / 2,
			trip.CarpoolElectric: carElectric / 2,
			trip.MotoInf250:      light,
			trip.Moped:           light,
			trip.MotoSup250:      168,
			trip.Bus:             103,
			trip.BusElectric:     9.5,
			trip.Subway:          2.5,
			trip.Tramway:         2.2,
			trip.Train:           train,
			trip.AirOrHSR:        plane,
			trip.UnknownMode:     0,
		},
		Plane: []DistanceBand{{UpToKm: 0, GPerKm: plane}},
		Mapping: map[trip.Mode]string{
			trip.Walking:           zero,
			trip.OnFoot:            zero,
			trip.Running:           zero,
			trip.Bicycling:         zero,
			trip.BicyclingElectric: "E-bike or e-scooter: 2",
			trip.ScooterElectric:   "E-bike or e-scooter: 2",
			trip.Car:               "Car (combustion): 193",
			trip.InVehicle:         "counted as a car, Car (combustion): 193",
			trip.CarElectric:       "Car (electric): 19.8",
			trip.Carpool:           "Car (combustion) 193 ÷ 2 passengers: 96.5",
			trip.CarpoolElectric:   "Car (electric) 19.8 ÷ 2 passengers: 9.9",
			trip.MotoInf250:        "Scooter/light motorbike: 61.6",
			trip.Moped:             "Scooter/light motorbike: 61.6",
			trip.MotoSup250:        "Motorbike: 168",
			trip.Bus:               "Bus (combustion): 103",
			trip.BusElectric:       "Bus (electric): 9.5",
			trip.Subway:            "Metro: 2.5",
			trip.Tramway:           "Tramway: 2.2",
			trip.Train: "mean of TGV 1.73, Intercités 5.29, TER 24.8: 10.6066… (a sensed or labelled train does " +
				"not say which kind; the same rule as coachco2-ademe, whose train figures are the same; " +
				"RER/Transilien 4.1 left out, it exists only around Paris)",
			trip.AirOrHSR:    "Plane: 230, whatever the distance",
			trip.UnknownMode: "unknown: 0",
		},
	}
}
