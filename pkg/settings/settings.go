// Package settings keeps the coach's settings: one document, [DocID], in the vault's
// io.cozy.coachco2.settings database. It holds the factor set, the default mode of the bike and
// car groups, home and work, the bike goal, the capture devices shown, the language and the map
// tiles.
//
// [Load] reads them (the defaults when there is no document yet); [Update] changes them with an
// optimistic-concurrency read-modify-write, so that two changes of different fields made at the
// same time are both kept, and validates them before writing: invalid settings are never stored.
// Fields of the document that this version does not know are ignored on load and kept as they
// are on update.
package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/trip"
)

// Settings are the person's settings of the coach.
type Settings struct {
	// FactorSet is the id of the CO2 factor set (see co2.Lookup); "" means the default,
	// co2.DefaultSetID. Load and Update return it filled in.
	FactorSet string `json:"factorSet"`
	// DefaultModes is the mode to use, per group, for a section sensed as the group's generic
	// mode (e.g. {"bike": "BICYCLING_ELECTRIC", "car": "CAR_ELECTRIC"}). Only the bike and car
	// groups have one; see co2.Resolve.
	DefaultModes map[trip.Group]trip.Mode `json:"defaultModes"`
	// Home and Work are the person's places, nil until set.
	Home *places.Place `json:"home,omitempty"`
	Work *places.Place `json:"work,omitempty"`
	// BikeGoal is the goal of bike-commute days and who the attestation is for.
	BikeGoal BikeGoal `json:"bikeGoal"`
	// Devices are the capture devices whose trips are shown; empty means all of them.
	Devices []string `json:"devices,omitempty"`
	// Language is "fr", "en", or "" for the environment's.
	Language string `json:"language,omitempty"`
	// TileServer is the URL template of the map tiles (https, with {z}, {x} and {y}); empty
	// means no basemap.
	TileServer string `json:"tileServer,omitempty"`
	// BaseMap is the absolute path of an offline base map, a raster MBTiles file that the app
	// serves itself (pkg/basemap); it wins over TileServer. Empty means none.
	BaseMap string `json:"baseMap,omitempty"`
}

// BikeGoal is the yearly goal of bike-commute days (for the Forfait Mobilités Durables) and what
// the sworn statement says.
type BikeGoal struct {
	// Target is the number of bike-commute days a year to reach, 1 to 366.
	Target    int    `json:"target"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Employer  string `json:"employer,omitempty"`
	// Place is where the statement is signed ("Fait à La Rochelle").
	Place string `json:"place,omitempty"`
}

// DefaultBikeGoalTarget is the bike goal's default target, in days a year (the existing app's).
const DefaultBikeGoalTarget = 100

// Limits of the values.
const (
	// MaxBikeGoalTarget is the largest target: every day of a leap year.
	MaxBikeGoalTarget = 366
	// MaxTextLen is the longest name, label or device, in characters.
	MaxTextLen = 200
)

// Defaults returns the settings of someone who changed nothing: the default factor set, no
// default modes, no home or work, a bike goal of 100 days, all devices, the environment's
// language and no basemap.
func Defaults() Settings {
	return Settings{
		FactorSet:    co2.DefaultSetID,
		DefaultModes: map[trip.Group]trip.Mode{},
		BikeGoal:     BikeGoal{Target: DefaultBikeGoalTarget},
	}
}

// withDefaults fills in what a stored document leaves out.
func (s Settings) withDefaults() Settings {
	if s.FactorSet == "" {
		s.FactorSet = co2.DefaultSetID
	}
	if s.DefaultModes == nil {
		s.DefaultModes = map[trip.Group]trip.Mode{}
	}
	if s.BikeGoal.Target == 0 {
		s.BikeGoal.Target = DefaultBikeGoalTarget
	}
	return s
}

// InvalidError lists what is wrong with settings.
type InvalidError struct {
	// Problems are one per invalid value, "field: problem", in the order of the fields.
	Problems []string
}

// Error lists the problems: "invalid settings: field: problem; field: problem".
func (e *InvalidError) Error() string {
	return "invalid settings: " + strings.Join(e.Problems, "; ")
}

// groupsWithDefault are the groups that have a generic mode, and so a default mode.
func groupsWithDefault() []trip.Group { return []trip.Group{trip.GroupBike, trip.GroupCar} }

// Validate checks every value and returns an *InvalidError listing all the problems, or nil:
// the factor set is known (or ""); default modes are set only for the bike and car groups, to
// modes of that group; home and work are positions on the Earth; the bike goal's target is 1 to
// 366; names, labels and devices are at most MaxTextLen characters without control characters;
// devices are not empty nor repeated; the language is "fr", "en" or ""; the tile server is ""
// or an https URL template with {z}, {x} and {y}.
func (s Settings) Validate() error {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+": "+fmt.Sprintf(format, args...))
	}
	if s.FactorSet != "" {
		if _, err := co2.Lookup(s.FactorSet); err != nil {
			bad("factorSet", "%v", err)
		}
	}
	for _, g := range slices.Sorted(maps.Keys(s.DefaultModes)) {
		m := s.DefaultModes[g]
		switch {
		case !slices.Contains(groupsWithDefault(), g):
			bad("defaultModes", "group %q has no default mode (groups: %s, %s)", g, trip.GroupBike, trip.GroupCar)
		case !m.Valid():
			bad("defaultModes."+string(g), "unknown mode %q", m)
		case m.Group() != g:
			bad("defaultModes."+string(g), "mode %s is not in the %s group", m, g)
		}
	}
	checkPlace := func(field string, p *places.Place) {
		if p == nil {
			return
		}
		if !(math.Abs(p.Lat) <= 90 && math.Abs(p.Lon) <= 180) {
			bad(field, "position (lon %v, lat %v) is not on the Earth", p.Lon, p.Lat)
		}
		checkText(bad, field+".label", p.Label)
	}
	checkPlace("home", s.Home)
	checkPlace("work", s.Work)
	if t := s.BikeGoal.Target; t < 1 || t > MaxBikeGoalTarget {
		bad("bikeGoal.target", "%d days is not between 1 and %d", t, MaxBikeGoalTarget)
	}
	checkText(bad, "bikeGoal.firstName", s.BikeGoal.FirstName)
	checkText(bad, "bikeGoal.lastName", s.BikeGoal.LastName)
	checkText(bad, "bikeGoal.employer", s.BikeGoal.Employer)
	checkText(bad, "bikeGoal.place", s.BikeGoal.Place)
	for i, d := range s.Devices {
		field := fmt.Sprintf("devices[%d]", i)
		switch {
		case strings.TrimSpace(d) == "":
			bad(field, "empty device name")
		case slices.Contains(s.Devices[:i], d):
			bad(field, "device %q is listed twice", d)
		default:
			checkText(bad, field, d)
		}
	}
	switch s.Language {
	case "", "fr", "en":
	default:
		bad("language", "%q is not fr, en or empty", s.Language)
	}
	if s.TileServer != "" {
		if err := checkTileServer(s.TileServer); err != nil {
			bad("tileServer", "%v", err)
		}
	}
	if s.BaseMap != "" && (!filepath.IsAbs(s.BaseMap) || !strings.EqualFold(filepath.Ext(s.BaseMap), ".mbtiles")) {
		bad("baseMap", "%q is not the absolute path of a .mbtiles file", s.BaseMap)
	}
	if problems != nil {
		return &InvalidError{Problems: problems}
	}
	return nil
}

// checkText reports a text that is too long, not UTF-8 or holds control characters.
func checkText(bad func(field, format string, args ...any), field, text string) {
	switch {
	case !utf8.ValidString(text):
		bad(field, "not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxTextLen:
		bad(field, "longer than %d characters", MaxTextLen)
	case strings.ContainsFunc(text, unicode.IsControl):
		bad(field, "holds control characters")
	}
}

// checkTileServer checks a map tiles URL template: https, a host, no credentials, and the
// placeholders {z}, {x} and {y} (besides which only Leaflet's {s}, {r} and {-y} are allowed).
func checkTileServer(template string) error {
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(template, p) {
			return fmt.Errorf("%q lacks the placeholder %s", template, p)
		}
	}
	sample := strings.NewReplacer("{z}", "1", "{x}", "2", "{y}", "3", "{-y}", "3", "{s}", "a", "{r}", "").Replace(template)
	if strings.ContainsAny(sample, "{}") {
		return fmt.Errorf("%q has a placeholder other than {z}, {x}, {y}, {s}, {r} and {-y}", template)
	}
	u, err := url.Parse(sample)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL template", template)
	case u.Scheme != "https":
		return fmt.Errorf("%q is not an https URL", template)
	case u.Host == "":
		return fmt.Errorf("%q has no host", template)
	case u.User != nil:
		return errors.New("the tile server URL must not hold credentials")
	}
	return nil
}

// FiguresHash returns a hex hash of the settings that change computed figures: the default modes
// (they change sections' modes and CO2) and home and work, labels included (they make trips
// COMMUTE and name trip ends). It leaves out the factor set, which an aggregate records on its
// own, and what changes no figure: the bike goal, devices, language and tile server. It does not
// depend on map order, and nil and empty DefaultModes give the same hash.
func (s Settings) FiguresHash() string {
	h := sha256.New()
	h.Write([]byte("coachco2-settings-figures/1\n"))
	for _, g := range slices.Sorted(maps.Keys(s.DefaultModes)) {
		fmt.Fprintf(h, "mode %q %q\n", g, s.DefaultModes[g])
	}
	for _, p := range []struct {
		name  string
		place *places.Place
	}{{"home", s.Home}, {"work", s.Work}} {
		if p.place == nil {
			fmt.Fprintf(h, "%s none\n", p.name)
			continue
		}
		fmt.Fprintf(h, "%s %s %s %q\n", p.name, strconv.FormatFloat(p.place.Lon, 'g', -1, 64),
			strconv.FormatFloat(p.place.Lat, 'g', -1, 64), p.place.Label)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
