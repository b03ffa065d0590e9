package co2

import (
	"strings"

	"github.com/coachco2/coachco2/pkg/trip"
)

// SensedMode maps a section's sensed mode, as the server names it ("MotionTypes.ON_FOOT",
// "PredictedModeTypes.TRAM"), to the coach's mode:
//
//   - MotionTypes: ON_FOOT and WALKING → WALKING, RUNNING → RUNNING, BICYCLING → BICYCLING,
//     IN_VEHICLE → CAR, AIR_OR_HSR → AIR_OR_HSR, and STILL, TILTING, NONE,
//     STOPPED_WHILE_IN_VEHICLE, UNKNOWN → UNKNOWN;
//   - PredictedModeTypes: WALKING, BICYCLING, BUS, TRAIN, CAR, AIR_OR_HSR, SUBWAY, UNKNOWN → the
//     mode of the same name, and TRAM and LIGHT_RAIL → TRAMWAY.
//
// A bare name without its enum ("ON_FOOT", "TRAM") is accepted: the two enums give no name two
// meanings. Surrounding spaces are ignored; case is not (the server writes the names in upper
// case). Anything else, including a name under the wrong enum ("MotionTypes.BUS"), gives UNKNOWN.
func SensedMode(sensed string) trip.Mode {
	sensed = strings.TrimSpace(sensed)
	enum, name, found := strings.Cut(sensed, ".")
	if !found {
		if m, ok := motionType(sensed); ok {
			return m
		}
		m, _ := predictedModeType(sensed)
		return m
	}
	switch enum {
	case "MotionTypes":
		m, _ := motionType(name)
		return m
	case "PredictedModeTypes":
		m, _ := predictedModeType(name)
		return m
	}
	return trip.UnknownMode
}

// motionType maps a MotionTypes name; ok is false when the enum has no such name.
func motionType(name string) (m trip.Mode, ok bool) {
	switch name {
	case "ON_FOOT", "WALKING":
		return trip.Walking, true
	case "RUNNING":
		return trip.Running, true
	case "BICYCLING":
		return trip.Bicycling, true
	case "IN_VEHICLE":
		return trip.Car, true
	case "AIR_OR_HSR":
		return trip.AirOrHSR, true
	case "STILL", "TILTING", "NONE", "STOPPED_WHILE_IN_VEHICLE", "UNKNOWN":
		return trip.UnknownMode, true
	}
	return trip.UnknownMode, false
}

// predictedModeType maps a PredictedModeTypes name; ok is false when the enum has no such name.
func predictedModeType(name string) (m trip.Mode, ok bool) {
	switch name {
	case "WALKING":
		return trip.Walking, true
	case "BICYCLING":
		return trip.Bicycling, true
	case "BUS":
		return trip.Bus, true
	case "TRAIN":
		return trip.Train, true
	case "CAR":
		return trip.Car, true
	case "AIR_OR_HSR":
		return trip.AirOrHSR, true
	case "SUBWAY":
		return trip.Subway, true
	case "TRAM", "LIGHT_RAIL":
		return trip.Tramway, true
	case "UNKNOWN":
		return trip.UnknownMode, true
	}
	return trip.UnknownMode, false
}

// LabelMode is what a phone's mode label (an e-mission mode_confirm value) says about a trip.
// The zero LabelMode means "no label".
type LabelMode struct {
	// Mode is the coach's mode for the label: UNKNOWN for "other", for not_a_trip and for a
	// value the coach does not know.
	Mode trip.Mode
	// NotATrip is set for not_a_trip: the trip counts in no indicator.
	NotATrip bool
	// Known reports whether the value is one the coach knows (not_a_trip and other included).
	Known bool
	// Label is the value as given, without surrounding spaces, to be shown when not Known.
	Label string
}

// Present reports whether l carries a label at all.
func (l LabelMode) Present() bool {
	return l.Known || l.NotATrip || l.Label != "" || l.Mode != ""
}

// ModeOfLabel maps an e-mission mode label, ignoring case and surrounding spaces: walk →
// WALKING; bike, bikeshare → BICYCLING; e-bike → BICYCLING_ELECTRIC; scootershare →
// SCOOTER_ELECTRIC; drove_alone, hybrid_drove_alone, taxi → CAR; shared_ride,
// hybrid_shared_ride → CARPOOL; e_car_drove_alone → CAR_ELECTRIC; e_car_shared_ride →
// CARPOOL_ELECTRIC; bus, free_shuttle → BUS; train → TRAIN; air → AIR_OR_HSR; other → UNKNOWN
// (Known); not_a_trip → NotATrip (Known, mode UNKNOWN). Any other value gives UNKNOWN with Known
// false, and the value kept in Label. A blank label gives the zero LabelMode (no label).
func ModeOfLabel(label string) LabelMode {
	label = strings.TrimSpace(label)
	if label == "" {
		return LabelMode{}
	}
	l := LabelMode{Mode: trip.UnknownMode, Known: true, Label: label}
	switch strings.ToLower(label) {
	case "walk":
		l.Mode = trip.Walking
	case "bike", "bikeshare":
		l.Mode = trip.Bicycling
	case "e-bike":
		l.Mode = trip.BicyclingElectric
	case "scootershare":
		l.Mode = trip.ScooterElectric
	case "drove_alone", "hybrid_drove_alone", "taxi":
		l.Mode = trip.Car
	case "shared_ride", "hybrid_shared_ride":
		l.Mode = trip.Carpool
	case "e_car_drove_alone":
		l.Mode = trip.CarElectric
	case "e_car_shared_ride":
		l.Mode = trip.CarpoolElectric
	case "bus", "free_shuttle":
		l.Mode = trip.Bus
	case "train":
		l.Mode = trip.Train
	case "air":
		l.Mode = trip.AirOrHSR
	case "other":
	case "not_a_trip":
		l.NotATrip = true
	default:
		l.Known = false
	}
	return l
}

// PurposeOfLabel maps an e-mission purpose label, ignoring case and surrounding spaces: work →
// COMMUTE (going to work); at_work → WORK; shopping → SHOPPING; pick_drop_person, pick_drop_item
// → PICK_DROP; personal_med → PERSONAL_MED; access_recreation, entertainment → ENTERTAINMENT;
// exercise → EXERCISE; home, school, transit_transfer, meal, religious, other → OTHER_PURPOSE
// (a trip between home and work becomes COMMUTE by the home↔work rule, not here). Any other
// value, or a blank one, gives UNKNOWN with known false.
func PurposeOfLabel(label string) (p trip.Purpose, known bool) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "work":
		return trip.Commute, true
	case "at_work":
		return trip.Work, true
	case "shopping":
		return trip.Shopping, true
	case "pick_drop_person", "pick_drop_item":
		return trip.PickDrop, true
	case "personal_med":
		return trip.PersonalMed, true
	case "access_recreation", "entertainment":
		return trip.Entertainment, true
	case "exercise":
		return trip.Exercise, true
	case "home", "school", "transit_transfer", "meal", "religious", "other":
		return trip.OtherPurpose, true
	}
	return trip.UnknownPurpose, false
}

// Defaults is the person's default mode per group, applied to a section whose sensed mode is the
// generic member of the group (e.g. bike → BICYCLING_ELECTRIC for everything sensed BICYCLING).
// Only the bike and car groups have a generic member.
type Defaults map[trip.Group]trip.Mode

// Resolve returns a section's mode, taking the first that applies of:
//
//  1. manual, the mode the person set in the app for this section, when not empty (a value that
//     is not a trip.Mode gives UNKNOWN: the person's choice is never replaced by a guess);
//  2. the phone's trip label, when present and not not_a_trip: its mode, UNKNOWN for an unknown
//     label value (pass the zero LabelMode for a section the label does not cover, see
//     LabelAppliesTo);
//  3. the person's default for the sensed mode's group, only when the sensed mode is the
//     generic member of its group (BICYCLING for bike; CAR or IN_VEHICLE for car: a sensed
//     BUS stays BUS), and only a default that is a mode of that group;
//  4. the sensed mode, when it is a trip.Mode;
//  5. UNKNOWN.
func Resolve(manual trip.Mode, label LabelMode, defaults Defaults, sensed trip.Mode) trip.Mode {
	if manual != "" {
		if manual.Valid() {
			return manual
		}
		return trip.UnknownMode
	}
	if label.Present() && !label.NotATrip {
		if label.Known && label.Mode.Valid() {
			return label.Mode
		}
		return trip.UnknownMode
	}
	var group trip.Group // of which sensed is the generic member, if any
	switch sensed {
	case trip.Bicycling:
		group = trip.GroupBike
	case trip.Car, trip.InVehicle:
		group = trip.GroupCar
	}
	if d := defaults[group]; group != "" && d.Valid() && d.Group() == group {
		return d
	}
	if sensed.Valid() {
		return sensed
	}
	return trip.UnknownMode
}

// LabelAppliesTo reports, for a trip whose sections have the given (sensed) modes, which sections
// a trip-level mode label applies to: the sections that are not on foot (WALKING, ON_FOOT,
// RUNNING), or every section when all of them are on foot. The walks to and from a bus are
// still walks when the trip is labelled "bus".
func LabelAppliesTo(sections []trip.Mode) []bool {
	out := make([]bool, len(sections))
	all := true
	for i, m := range sections {
		out[i] = !m.IsWalking()
		all = all && !out[i]
	}
	if all {
		for i := range out {
			out[i] = true
		}
	}
	return out
}
