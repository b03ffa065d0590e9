package co2_test

import (
	"fmt"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/trip"
)

func ExampleFactorSet_SectionCO2() {
	set, err := co2.Lookup(co2.DefaultSetID)
	if err != nil {
		panic(err)
	}
	// A 12.5 km section sensed as a car, for someone whose default car mode is carpooling.
	mode := co2.Resolve("", co2.LabelMode{}, co2.Defaults{trip.GroupCar: trip.Carpool},
		co2.SensedMode("PredictedModeTypes.CAR"))
	fmt.Println(set.ID, set.Version, mode, set.SectionCO2(mode, 12_500), "kg")
	// Output: coachco2-ademe 2024.1 CARPOOL 1.2 kg
}

func ExampleCalories() {
	// A 9-minute walk at 0.1 m/s.
	fmt.Printf("%.2f km/h, %.1f kcal\n", co2.AvgSpeedKmh(54, 540), co2.Calories(trip.Walking, 54, 540))
	// Output: 0.36 km/h, 23.4 kcal
}
