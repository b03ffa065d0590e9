package co2

import (
	"reflect"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Every name of both enums (openpath-api.md, "Mode enums"), with the reference's mapping.
var (
	motionTypes = map[string]trip.Mode{
		"IN_VEHICLE": trip.Car, "BICYCLING": trip.Bicycling, "ON_FOOT": trip.Walking,
		"STILL": trip.UnknownMode, "UNKNOWN": trip.UnknownMode, "TILTING": trip.UnknownMode,
		"WALKING": trip.Walking, "RUNNING": trip.Running, "NONE": trip.UnknownMode,
		"STOPPED_WHILE_IN_VEHICLE": trip.UnknownMode, "AIR_OR_HSR": trip.AirOrHSR,
	}
	predictedModeTypes = map[string]trip.Mode{
		"UNKNOWN": trip.UnknownMode, "WALKING": trip.Walking, "BICYCLING": trip.Bicycling,
		"BUS": trip.Bus, "TRAIN": trip.Train, "CAR": trip.Car, "AIR_OR_HSR": trip.AirOrHSR,
		"SUBWAY": trip.Subway, "TRAM": trip.Tramway, "LIGHT_RAIL": trip.Tramway,
	}
)

func TestSensedModeEveryName(t *testing.T) {
	if len(motionTypes) != 11 || len(predictedModeTypes) != 10 {
		t.Fatalf("the enums have 11 and 10 names, the tables %d and %d", len(motionTypes), len(predictedModeTypes))
	}
	for enum, table := range map[string]map[string]trip.Mode{"MotionTypes": motionTypes, "PredictedModeTypes": predictedModeTypes} {
		for name, want := range table {
			if got := SensedMode(enum + "." + name); got != want {
				t.Errorf("SensedMode(%q) = %s, want %s", enum+"."+name, got, want)
			}
			if got := SensedMode(name); got != want { // bare
				t.Errorf("SensedMode(%q) = %s, want %s", name, got, want)
			}
		}
	}
}

func TestSensedModeOthers(t *testing.T) {
	for in, want := range map[string]trip.Mode{
		" MotionTypes.ON_FOOT\n":        trip.Walking, // surrounding spaces
		"PredictedModeTypes.TRAM ":      trip.Tramway,
		"":                              trip.UnknownMode,
		"   ":                           trip.UnknownMode,
		"MotionTypes.BUS":               trip.UnknownMode, // no BUS in MotionTypes
		"MotionTypes.TRAM":              trip.UnknownMode,
		"PredictedModeTypes.ON_FOOT":    trip.UnknownMode, // no ON_FOOT in PredictedModeTypes
		"PredictedModeTypes.IN_VEHICLE": trip.UnknownMode,
		"PredictedModeTypes.TRAM.X":     trip.UnknownMode,
		"Foo.WALKING":                   trip.UnknownMode,
		"motiontypes.ON_FOOT":           trip.UnknownMode, // case matters
		"MotionTypes.on_foot":           trip.UnknownMode,
		"MotionTypes.":                  trip.UnknownMode,
		".WALKING":                      trip.UnknownMode,
		"TRAMWAY":                       trip.UnknownMode, // our name, not the server's
		"CAR_ELECTRIC":                  trip.UnknownMode,
		"MotionTypes.2":                 trip.UnknownMode, // the int is converted upstream, not here
	} {
		if got := SensedMode(in); got != want {
			t.Errorf("SensedMode(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestModeOfLabelEveryValue(t *testing.T) {
	for in, want := range map[string]LabelMode{
		"walk":               {Mode: trip.Walking, Known: true, Label: "walk"},
		"bike":               {Mode: trip.Bicycling, Known: true, Label: "bike"},
		"bikeshare":          {Mode: trip.Bicycling, Known: true, Label: "bikeshare"},
		"e-bike":             {Mode: trip.BicyclingElectric, Known: true, Label: "e-bike"},
		"scootershare":       {Mode: trip.ScooterElectric, Known: true, Label: "scootershare"},
		"drove_alone":        {Mode: trip.Car, Known: true, Label: "drove_alone"},
		"shared_ride":        {Mode: trip.Carpool, Known: true, Label: "shared_ride"},
		"e_car_drove_alone":  {Mode: trip.CarElectric, Known: true, Label: "e_car_drove_alone"},
		"e_car_shared_ride":  {Mode: trip.CarpoolElectric, Known: true, Label: "e_car_shared_ride"},
		"hybrid_drove_alone": {Mode: trip.Car, Known: true, Label: "hybrid_drove_alone"},
		"hybrid_shared_ride": {Mode: trip.Carpool, Known: true, Label: "hybrid_shared_ride"},
		"taxi":               {Mode: trip.Car, Known: true, Label: "taxi"},
		"bus":                {Mode: trip.Bus, Known: true, Label: "bus"},
		"free_shuttle":       {Mode: trip.Bus, Known: true, Label: "free_shuttle"},
		"train":              {Mode: trip.Train, Known: true, Label: "train"},
		"air":                {Mode: trip.AirOrHSR, Known: true, Label: "air"},
		"other":              {Mode: trip.UnknownMode, Known: true, Label: "other"},
		"not_a_trip":         {Mode: trip.UnknownMode, NotATrip: true, Known: true, Label: "not_a_trip"},
		// case and spaces
		"  Drove_Alone ": {Mode: trip.Car, Known: true, Label: "Drove_Alone"},
		"E-BIKE":         {Mode: trip.BicyclingElectric, Known: true, Label: "E-BIKE"},
		"NOT_A_TRIP\t":   {Mode: trip.UnknownMode, NotATrip: true, Known: true, Label: "NOT_A_TRIP"},
		// unknown values: UNKNOWN, kept as given
		"karate":      {Mode: trip.UnknownMode, Label: "karate"},
		" Karate ":    {Mode: trip.UnknownMode, Label: "Karate"},
		"e_bike":      {Mode: trip.UnknownMode, Label: "e_bike"},
		"not a trip":  {Mode: trip.UnknownMode, Label: "not a trip"},
		"trottinette": {Mode: trip.UnknownMode, Label: "trottinette"},
		// no label
		"":    {},
		" \t": {},
	} {
		if got := ModeOfLabel(in); got != want {
			t.Errorf("ModeOfLabel(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestLabelModePresent(t *testing.T) {
	for _, c := range []struct {
		l    LabelMode
		want bool
	}{
		{LabelMode{}, false},
		{ModeOfLabel(""), false},
		{ModeOfLabel("karate"), true},
		{ModeOfLabel("not_a_trip"), true},
		{LabelMode{Mode: trip.Bus, Known: true}, true},
	} {
		if got := c.l.Present(); got != c.want {
			t.Errorf("%+v.Present() = %v, want %v", c.l, got, c.want)
		}
	}
}

func TestPurposeOfLabelEveryValue(t *testing.T) {
	type res struct {
		p     trip.Purpose
		known bool
	}
	for in, want := range map[string]res{
		"home":              {trip.OtherPurpose, true},
		"work":              {trip.Commute, true},
		"at_work":           {trip.Work, true},
		"school":            {trip.OtherPurpose, true},
		"transit_transfer":  {trip.OtherPurpose, true},
		"shopping":          {trip.Shopping, true},
		"meal":              {trip.OtherPurpose, true},
		"pick_drop_person":  {trip.PickDrop, true},
		"pick_drop_item":    {trip.PickDrop, true},
		"personal_med":      {trip.PersonalMed, true},
		"access_recreation": {trip.Entertainment, true},
		"exercise":          {trip.Exercise, true},
		"entertainment":     {trip.Entertainment, true},
		"religious":         {trip.OtherPurpose, true},
		"other":             {trip.OtherPurpose, true},
		" WORK ":            {trip.Commute, true},
		"At_Work":           {trip.Work, true},
		"karate":            {trip.UnknownPurpose, false},
		"COMMUTE":           {trip.UnknownPurpose, false}, // our name, not a label value
		"":                  {trip.UnknownPurpose, false},
	} {
		p, known := PurposeOfLabel(in)
		if (res{p, known}) != want {
			t.Errorf("PurposeOfLabel(%q) = %s, %v; want %s, %v", in, p, known, want.p, want.known)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	defaults := Defaults{trip.GroupBike: trip.BicyclingElectric, trip.GroupCar: trip.Carpool}
	none := LabelMode{}
	for _, c := range []struct {
		name     string
		manual   trip.Mode
		label    LabelMode
		defaults Defaults
		sensed   trip.Mode
		want     trip.Mode
	}{
		{"manual beats everything", trip.CarElectric, ModeOfLabel("bus"), defaults, trip.Car, trip.CarElectric},
		{"manual even when same group default exists", trip.Bicycling, none, defaults, trip.Bicycling, trip.Bicycling},
		{"manual not a mode is UNKNOWN", "JETPACK", ModeOfLabel("bus"), defaults, trip.Car, trip.UnknownMode},
		{"label beats default and sensed", "", ModeOfLabel("bus"), defaults, trip.Car, trip.Bus},
		{"label bike beats the bike default", "", ModeOfLabel("bike"), defaults, trip.Bicycling, trip.Bicycling},
		{"unknown label gives UNKNOWN", "", ModeOfLabel("karate"), defaults, trip.Car, trip.UnknownMode},
		{"label other gives UNKNOWN", "", ModeOfLabel("other"), defaults, trip.Bus, trip.UnknownMode},
		{"not_a_trip label is skipped", "", ModeOfLabel("not_a_trip"), defaults, trip.Car, trip.Carpool},
		{"label without Label field", "", LabelMode{Mode: trip.Train, Known: true}, nil, trip.Car, trip.Train},
		{"bike default for sensed BICYCLING", "", none, defaults, trip.Bicycling, trip.BicyclingElectric},
		{"car default for sensed CAR", "", none, defaults, trip.Car, trip.Carpool},
		{"car default for IN_VEHICLE", "", none, defaults, trip.InVehicle, trip.Carpool},
		{"sensed BUS stays BUS", "", none, defaults, trip.Bus, trip.Bus},
		{"sensed e-bike is not generic", "", none, Defaults{trip.GroupBike: trip.ScooterElectric}, trip.BicyclingElectric, trip.BicyclingElectric},
		{"sensed WALKING stays", "", none, defaults, trip.Walking, trip.Walking},
		{"default from another group ignored", "", none, Defaults{trip.GroupCar: trip.Bus}, trip.Car, trip.Car},
		{"default not a mode ignored", "", none, Defaults{trip.GroupBike: "JETPACK"}, trip.Bicycling, trip.Bicycling},
		{"no defaults", "", none, nil, trip.Car, trip.Car},
		{"no default for the group", "", none, Defaults{trip.GroupBike: trip.BicyclingElectric}, trip.Car, trip.Car},
		{"sensed IN_VEHICLE without default", "", none, nil, trip.InVehicle, trip.InVehicle},
		{"sensed empty", "", none, defaults, "", trip.UnknownMode},
		{"sensed not a mode", "", none, defaults, "HOVERCRAFT", trip.UnknownMode},
		{"default for unknown group ignored", "", none, Defaults{"": trip.Car, trip.GroupUnknown: trip.Car}, trip.UnknownMode, trip.UnknownMode},
	} {
		if got := Resolve(c.manual, c.label, c.defaults, c.sensed); got != c.want {
			t.Errorf("%s: Resolve(%q, %+v, %v, %q) = %s, want %s", c.name, c.manual, c.label, c.defaults, c.sensed, got, c.want)
		}
	}
}

func TestLabelAppliesTo(t *testing.T) {
	W, F, R := trip.Walking, trip.OnFoot, trip.Running
	for _, c := range []struct {
		sections []trip.Mode
		want     []bool
	}{
		{nil, []bool{}},
		{[]trip.Mode{W}, []bool{true}},                            // all walking: all
		{[]trip.Mode{W, F, R}, []bool{true, true, true}},          // all on foot: all
		{[]trip.Mode{W, trip.Bus, W}, []bool{false, true, false}}, // the walks to the bus stay walks
		{[]trip.Mode{trip.Car, trip.Train}, []bool{true, true}},
		{[]trip.Mode{R, trip.UnknownMode}, []bool{false, true}},
		{[]trip.Mode{trip.Bicycling}, []bool{true}},
	} {
		if got := LabelAppliesTo(c.sections); !reflect.DeepEqual(got, c.want) {
			t.Errorf("LabelAppliesTo(%v) = %v, want %v", c.sections, got, c.want)
		}
	}
}

func FuzzSensedMode(f *testing.F) {
	for _, s := range []string{"MotionTypes.ON_FOOT", "PredictedModeTypes.TRAM", "LIGHT_RAIL", "", "MotionTypes.BUS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SensedMode(s)
		if !got.Valid() {
			t.Fatalf("SensedMode(%q) = %q, not a trip.Mode", s, got)
		}
		if again := SensedMode(" " + s + "\t"); again != got {
			t.Fatalf("SensedMode(%q) = %s but with spaces around %s", s, got, again)
		}
		if got == trip.UnknownMode {
			return
		}
		// A known mode comes only from one of the enums' names, bare or prefixed.
		enum, name, found := strings.Cut(strings.TrimSpace(s), ".")
		if !found {
			name, enum = enum, ""
		}
		want, ok := predictedModeTypes[name]
		if enum == "MotionTypes" || (enum == "" && !ok) {
			want, ok = motionTypes[name]
		}
		if !ok || want != got || (enum != "" && enum != "MotionTypes" && enum != "PredictedModeTypes") {
			t.Fatalf("SensedMode(%q) = %s, not from the reference's table", s, got)
		}
	})
}
