package trip

// Mode is a section's means of transport, as the coach names them (the existing Coach CO2 app's
// list).
type Mode string

// The modes.
const (
	AirOrHSR          Mode = "AIR_OR_HSR"
	Bicycling         Mode = "BICYCLING"
	BicyclingElectric Mode = "BICYCLING_ELECTRIC"
	Bus               Mode = "BUS"
	BusElectric       Mode = "BUS_ELECTRIC"
	Car               Mode = "CAR"
	CarElectric       Mode = "CAR_ELECTRIC"
	Carpool           Mode = "CARPOOL"
	CarpoolElectric   Mode = "CARPOOL_ELECTRIC"
	InVehicle         Mode = "IN_VEHICLE"
	Moped             Mode = "MOPED"
	MotoInf250        Mode = "MOTO_INF_250"
	MotoSup250        Mode = "MOTO_SUP_250"
	OnFoot            Mode = "ON_FOOT"
	Running           Mode = "RUNNING"
	ScooterElectric   Mode = "SCOOTER_ELECTRIC"
	Subway            Mode = "SUBWAY"
	Train             Mode = "TRAIN"
	Tramway           Mode = "TRAMWAY"
	Walking           Mode = "WALKING"
	UnknownMode       Mode = "UNKNOWN"
)

// Modes lists every mode, in the order of the mode picker.
func Modes() []Mode {
	return []Mode{Walking, OnFoot, Running, Bicycling, BicyclingElectric, ScooterElectric,
		Car, CarElectric, Carpool, CarpoolElectric, MotoInf250, MotoSup250, Moped, InVehicle,
		Bus, BusElectric, Train, Tramway, Subway, AirOrHSR, UnknownMode}
}

// Valid reports whether m is one of the modes.
func (m Mode) Valid() bool {
	for _, x := range Modes() {
		if x == m {
			return true
		}
	}
	return false
}

// Group is a family of modes in the mode picker; a default mode is set per group.
type Group string

// The groups.
const (
	GroupWalking Group = "walking"
	GroupBike    Group = "bike"    // bike & scooter
	GroupCar     Group = "car"     // car & motorbike
	GroupTransit Group = "transit" // public transport
	GroupPlane   Group = "plane"   // plane
	GroupUnknown Group = "unknown" // unknown
)

// Group returns the mode's group.
func (m Mode) Group() Group {
	switch m {
	case Walking, OnFoot, Running:
		return GroupWalking
	case Bicycling, BicyclingElectric, ScooterElectric:
		return GroupBike
	case Car, CarElectric, Carpool, CarpoolElectric, MotoInf250, MotoSup250, Moped, InVehicle:
		return GroupCar
	case Bus, BusElectric, Train, Tramway, Subway:
		return GroupTransit
	case AirOrHSR:
		return GroupPlane
	}
	return GroupUnknown
}

// IsWalking reports whether the mode is on foot.
func (m Mode) IsWalking() bool { return m.Group() == GroupWalking }

// IsBikeCommute reports whether a commute in this mode counts as a bike-commute day for the
// Forfait Mobilités Durables.
func (m Mode) IsBikeCommute() bool {
	return m == Bicycling || m == BicyclingElectric || m == ScooterElectric
}

// Purpose is why a trip was made.
type Purpose string

// The purposes.
const (
	Commute        Purpose = "COMMUTE"
	Work           Purpose = "WORK"
	Shopping       Purpose = "SHOPPING"
	PersonalMed    Purpose = "PERSONAL_MED"
	PickDrop       Purpose = "PICK_DROP"
	Sport          Purpose = "SPORT"
	Exercise       Purpose = "EXERCISE"
	Entertainment  Purpose = "ENTERTAINMENT"
	Travel         Purpose = "TRAVEL"
	OtherPurpose   Purpose = "OTHER_PURPOSE"
	UnknownPurpose Purpose = "UNKNOWN"
)

// Purposes lists every purpose.
func Purposes() []Purpose {
	return []Purpose{Commute, Work, Shopping, PersonalMed, PickDrop, Sport, Exercise, Entertainment,
		Travel, OtherPurpose, UnknownPurpose}
}

// Valid reports whether p is one of the purposes.
func (p Purpose) Valid() bool {
	for _, x := range Purposes() {
		if x == p {
			return true
		}
	}
	return false
}
