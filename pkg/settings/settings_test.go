package settings_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
)

func TestDefaults(t *testing.T) {
	d := settings.Defaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	if d.FactorSet != co2.DefaultSetID || d.BikeGoal.Target != 100 || d.DefaultModes == nil || len(d.DefaultModes) != 0 ||
		d.Home != nil || d.Work != nil || d.Devices != nil || d.Language != "" || d.TileServer != "" {
		t.Errorf("Defaults() = %+v", d)
	}
	// Each call gives its own map.
	settings.Defaults().DefaultModes[trip.GroupBike] = trip.BicyclingElectric
	if len(settings.Defaults().DefaultModes) != 0 {
		t.Error("Defaults share their map")
	}
}

// full returns valid settings with every field set.
func full() settings.Settings {
	return settings.Settings{
		FactorSet:    co2.ImpactCO2SetID,
		DefaultModes: map[trip.Group]trip.Mode{trip.GroupBike: trip.BicyclingElectric, trip.GroupCar: trip.CarElectric},
		Home:         &places.Place{Lon: -1.1515, Lat: 46.1605, Label: "Maison"},
		Work:         &places.Place{Lon: -1.1535, Lat: 46.1425},
		BikeGoal:     settings.BikeGoal{Target: 120, FirstName: "Camille", LastName: "Léger", Employer: "Université de La Rochelle", Place: "La Rochelle"},
		Devices:      []string{"pixel", "iphone"},
		Language:     "fr",
		TileServer:   "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
	}
}

func TestValidate(t *testing.T) {
	if err := full().Validate(); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	valid := []struct {
		name   string
		change func(*settings.Settings)
	}{
		{"the default factor set by its empty id", func(s *settings.Settings) { s.FactorSet = "" }},
		{"no default modes", func(s *settings.Settings) { s.DefaultModes = nil }},
		{"IN_VEHICLE for cars", func(s *settings.Settings) { s.DefaultModes[trip.GroupCar] = trip.InVehicle }},
		{"target 1", func(s *settings.Settings) { s.BikeGoal.Target = 1 }},
		{"target 366", func(s *settings.Settings) { s.BikeGoal.Target = 366 }},
		{"English", func(s *settings.Settings) { s.Language = "en" }},
		{"the environment's language", func(s *settings.Settings) { s.Language = "" }},
		{"no basemap", func(s *settings.Settings) { s.TileServer = "" }},
		{"a WMTS-style template with a key", func(s *settings.Settings) {
			s.TileServer = "https://tiles.example.org/wmts?TileMatrix={z}&TileCol={x}&TileRow={y}&key=abc"
		}},
		{"a retina TMS template", func(s *settings.Settings) { s.TileServer = "https://t.example.org/{z}/{x}/{-y}{r}.png?y={y}" }},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			s := full()
			tt.change(&s)
			if err := s.Validate(); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
	invalid := []struct {
		name   string
		change func(*settings.Settings)
		want   string // in the error
	}{
		{"unknown factor set", func(s *settings.Settings) { s.FactorSet = "made-up" }, `factorSet: co2: unknown factor set "made-up"`},
		{"unknown group", func(s *settings.Settings) { s.DefaultModes["boat"] = trip.Car }, `defaultModes: group "boat" has no default mode`},
		{"a group without a generic mode", func(s *settings.Settings) { s.DefaultModes[trip.GroupTransit] = trip.Bus }, `group "transit" has no default mode`},
		{"unknown mode", func(s *settings.Settings) { s.DefaultModes[trip.GroupBike] = "UNICYCLE" }, `defaultModes.bike: unknown mode "UNICYCLE"`},
		{"mode of another group", func(s *settings.Settings) { s.DefaultModes[trip.GroupBike] = trip.CarElectric }, "defaultModes.bike: mode CAR_ELECTRIC is not in the bike group"},
		{"target 0", func(s *settings.Settings) { s.BikeGoal.Target = 0 }, "bikeGoal.target: 0 days is not between 1 and 366"},
		{"target 367", func(s *settings.Settings) { s.BikeGoal.Target = 367 }, "bikeGoal.target: 367 days"},
		{"negative target", func(s *settings.Settings) { s.BikeGoal.Target = -5 }, "bikeGoal.target: -5 days"},
		{"home off the Earth", func(s *settings.Settings) { s.Home.Lat = 91 }, "home: position"},
		{"work at NaN", func(s *settings.Settings) { s.Work.Lon = nan() }, "work: position"},
		{"a control character in a name", func(s *settings.Settings) { s.BikeGoal.LastName = "Léger\n" }, "bikeGoal.lastName: holds control characters"},
		{"a name too long", func(s *settings.Settings) { s.BikeGoal.Employer = strings.Repeat("é", 201) }, "bikeGoal.employer: longer than 200 characters"},
		{"an empty device", func(s *settings.Settings) { s.Devices = append(s.Devices, " ") }, "devices[2]: empty device name"},
		{"a device twice", func(s *settings.Settings) { s.Devices = append(s.Devices, "pixel") }, `devices[2]: device "pixel" is listed twice`},
		{"German", func(s *settings.Settings) { s.Language = "de" }, `language: "de" is not fr, en or empty`},
		{"tiles over http", func(s *settings.Settings) { s.TileServer = "http://tile.example.org/{z}/{x}/{y}.png" }, "is not an https URL"},
		{"tiles without {y}", func(s *settings.Settings) { s.TileServer = "https://tile.example.org/{z}/{x}.png" }, "lacks the placeholder {y}"},
		{"tiles with an unknown placeholder", func(s *settings.Settings) { s.TileServer = "https://tile.example.org/{z}/{x}/{y}.png?k={apikey}" }, "placeholder other than"},
		{"tiles with credentials", func(s *settings.Settings) { s.TileServer = "https://me:secret@tile.example.org/{z}/{x}/{y}.png" }, "must not hold credentials"},
		{"tiles without a host", func(s *settings.Settings) { s.TileServer = "https:///{z}/{x}/{y}.png" }, "has no host"},
		{"tiles as a file", func(s *settings.Settings) { s.TileServer = "/srv/tiles/{z}/{x}/{y}.png" }, "is not an https URL"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			s := full()
			tt.change(&s)
			err := s.Validate()
			var invalid *settings.InvalidError
			if !errors.As(err, &invalid) || len(invalid.Problems) != 1 {
				t.Fatalf("Validate = %v, want one problem", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %q, want it to say %q", err, tt.want)
			}
		})
	}
	// Every problem is listed, in the order of the fields.
	s := full()
	s.BikeGoal.Target, s.Language, s.FactorSet = 0, "xx", "nope"
	err := s.Validate()
	var inv *settings.InvalidError
	if !errors.As(err, &inv) || len(inv.Problems) != 3 || !strings.HasPrefix(inv.Problems[0], "factorSet:") ||
		!strings.HasPrefix(inv.Problems[2], "language:") {
		t.Errorf("Validate = %v", err)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestFiguresHash(t *testing.T) {
	base := full()
	h := base.FiguresHash()
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("FiguresHash = %q, want 32 hex digits", h)
	}
	// Stable: the same settings built in another order, or decoded from JSON, hash the same,
	// every time (map iteration order changes from run to run).
	for range 50 {
		s := full()
		s.DefaultModes = map[trip.Group]trip.Mode{}
		s.DefaultModes[trip.GroupCar] = trip.CarElectric
		s.DefaultModes[trip.GroupBike] = trip.BicyclingElectric
		if got := s.FiguresHash(); got != h {
			t.Fatalf("the same settings hash %s and %s", got, h)
		}
	}
	raw, _ := json.Marshal(base)
	var decoded settings.Settings
	if err := json.Unmarshal(raw, &decoded); err != nil || decoded.FiguresHash() != h {
		t.Errorf("decoded settings hash %s, want %s (%v)", decoded.FiguresHash(), h, err)
	}
	// Insensitive to what changes no figure.
	same := []struct {
		name   string
		change func(*settings.Settings)
	}{
		{"factor set", func(s *settings.Settings) { s.FactorSet = co2.DefaultSetID }},
		{"bike goal", func(s *settings.Settings) { s.BikeGoal = settings.BikeGoal{Target: 10, FirstName: "Dominique"} }},
		{"devices", func(s *settings.Settings) { s.Devices = nil }},
		{"language", func(s *settings.Settings) { s.Language = "en" }},
		{"tile server", func(s *settings.Settings) { s.TileServer = "" }},
	}
	for _, tt := range same {
		s := full()
		tt.change(&s)
		if s.FiguresHash() != h {
			t.Errorf("changing the %s changes the hash", tt.name)
		}
	}
	if a, b := (settings.Settings{}).FiguresHash(), (settings.Settings{DefaultModes: map[trip.Group]trip.Mode{}}).FiguresHash(); a != b {
		t.Error("nil and empty default modes hash differently")
	}
	// Sensitive to what does, each change giving a hash of its own.
	seen := map[string]string{h: "base"}
	differ := []struct {
		name   string
		change func(*settings.Settings)
	}{
		{"no bike default", func(s *settings.Settings) { delete(s.DefaultModes, trip.GroupBike) }},
		{"another car default", func(s *settings.Settings) { s.DefaultModes[trip.GroupCar] = trip.Carpool }},
		{"no default at all", func(s *settings.Settings) { s.DefaultModes = nil }},
		{"home moved 1 cm", func(s *settings.Settings) { s.Home.Lat += 1e-7 }},
		{"home renamed", func(s *settings.Settings) { s.Home.Label = "Chez moi" }},
		{"no home", func(s *settings.Settings) { s.Home = nil }},
		{"no work", func(s *settings.Settings) { s.Work = nil }},
		{"home and work swapped", func(s *settings.Settings) { s.Home, s.Work = s.Work, s.Home }},
		{"work moved", func(s *settings.Settings) { s.Work.Lon = -1.2 }},
	}
	for _, tt := range differ {
		s := full()
		tt.change(&s)
		got := s.FiguresHash()
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: same hash as %s", tt.name, prev)
		}
		seen[got] = tt.name
	}
}
