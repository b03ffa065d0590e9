// Package tripgen generates synthetic, realistic e-mission trips around La Rochelle, France, for
// demos, tests and benchmarks that must not depend on real people's data.
//
// Each user has a home and a work place, a usual commute mode (bike, car, bus or on foot) and habits
// with day-to-day variation: weekday commutes, lunch and shopping errands, evening outings, weekend
// markets, beaches and Île de Ré, Saturday nights out that end after midnight, an occasional train day
// to Paris or Bordeaux and an occasional flight. Local times are Europe/Paris with the right offset on
// either side of the DST changes. Trips have sections with LineString geometry sampled every 30 s as
// the e-mission pipeline resamples it, per-point times, speeds and haversine distances, the
// e-mission sensed_mode strings, walking sections around transit, and the places and stops a real
// getTrips FeatureCollection holds. Some trips get user labels (mode_confirm, purpose_confirm), a few
// of them corrected later.
//
// Generation is deterministic for a [Config] and lazy: [Generator.Day] builds one user's day from a
// random stream seeded by (seed, user, day), independently of every other day, so any day can be
// rebuilt cheaply and identically.
package tripgen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// DefaultStart returns the first day generated unless [Config.Start] says otherwise: Monday
// 2025-03-17, two weeks before the spring DST change, so a month of data crosses it.
func DefaultStart() openpath.Date { return openpath.Date{Year: 2025, Month: 3, Day: 17} }

// Limits of a [Config].
const (
	MaxUsers = 10000
	MaxDays  = 3660
)

// Config says what to generate.
type Config struct {
	// Users is the number of users, 1 to MaxUsers.
	Users int
	// Days is the number of consecutive days per user, 1 to MaxDays.
	Days int
	// Seed makes the data reproducible: the same Config gives the same trips, byte for byte.
	Seed int64
	// Start is the first local day; zero means [DefaultStart].
	Start openpath.Date
}

func (c Config) validate() error {
	switch {
	case c.Users < 1 || c.Users > MaxUsers:
		return fmt.Errorf("tripgen: users=%d: want 1 to %d", c.Users, MaxUsers)
	case c.Days < 1 || c.Days > MaxDays:
		return fmt.Errorf("tripgen: days=%d: want 1 to %d", c.Days, MaxDays)
	case !c.Start.IsZero() && !c.Start.Valid():
		return fmt.Errorf("tripgen: start=%v is not a date", c.Start)
	}
	return nil
}

// ParseSpec parses a generation spec "users=N,days=D,seed=S[,start=YYYY-MM-DD]" (the devserver's
// --generate flag). Missing keys default to users=1, days=30, seed=1.
func ParseSpec(spec string) (Config, error) {
	cfg := Config{Users: 1, Days: 30, Seed: 1}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Config{}, fmt.Errorf("tripgen: spec %q: %q is not key=value (want users=N,days=D,seed=S)", spec, part)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "users":
			cfg.Users, err = strconv.Atoi(v)
		case "days":
			cfg.Days, err = strconv.Atoi(v)
		case "seed":
			cfg.Seed, err = strconv.ParseInt(v, 10, 64)
		case "start":
			cfg.Start, err = openpath.ParseDate(v)
		default:
			return Config{}, fmt.Errorf("tripgen: spec %q: unknown key %q (want users, days, seed, start)", spec, k)
		}
		if err != nil {
			return Config{}, fmt.Errorf("tripgen: spec %q: %s: %w", spec, k, err)
		}
	}
	return cfg, cfg.validate()
}

// String returns the Config as a spec ParseSpec reads.
func (c Config) String() string {
	s := fmt.Sprintf("users=%d,days=%d,seed=%d", c.Users, c.Days, c.Seed)
	if !c.Start.IsZero() {
		s += ",start=" + c.Start.String()
	}
	return s
}
