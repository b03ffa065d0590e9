// Package co2 computes what a trip section emitted and what it burned, from data only: emission
// factor sets as versioned tables (FactorSet, Sets, Lookup), the mapping of the server's sensed
// modes and of the phone's labels to the coach's modes and purposes (SensedMode, ModeOfLabel,
// PurposeOfLabel), the resolution of a section's mode (Resolve, LabelAppliesTo), and calories and
// average speed (Calories, AvgSpeedKmh).
//
// Units are fixed across the package: distances in meters, durations in seconds, factors in grams
// of CO2 equivalent per passenger-kilometer, CO2 in kilograms, speeds in km/h, energy in kcal.
//
// The package holds no mutable state and does no I/O: every function is a pure computation, and
// the factor sets it hands out are fresh copies the caller may change freely.
package co2
