package settings_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// onBackends runs test on a new settings database of each vault backend.
func onBackends(t *testing.T, test func(t *testing.T, db *vault.DB)) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			v, _, _ := b.Open(t)
			db, err := v.DB(t.Context(), vault.DoctypeSettings)
			if err != nil {
				t.Fatal(err)
			}
			test(t, db)
		})
	}
}

// stored returns the settings document as the vault holds it, or nil when there is none.
func stored(t *testing.T, db *vault.DB) (map[string]any, string) {
	t.Helper()
	var doc map[string]any
	rev, err := db.Get(t.Context(), settings.DocID, &doc)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return doc, rev
}

func TestLoadDefaults(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		s, err := settings.Load(t.Context(), db)
		if err != nil || !reflect.DeepEqual(s, settings.Defaults()) {
			t.Fatalf("Load = %+v, %v; want the defaults", s, err)
		}
		if doc, _ := stored(t, db); doc != nil {
			t.Errorf("Load wrote %v", doc)
		}
	})
}

func TestUpdate(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		ctx := t.Context()
		home := &places.Place{Lon: -1.1515, Lat: 46.1605, Label: "Maison"}
		saved, err := settings.Update(ctx, db, func(s *settings.Settings) error {
			s.DefaultModes[trip.GroupBike] = trip.BicyclingElectric
			s.Home = home
			s.BikeGoal.FirstName = "Camille"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := settings.Defaults()
		want.DefaultModes[trip.GroupBike] = trip.BicyclingElectric
		want.Home = home
		want.BikeGoal.FirstName = "Camille"
		if !reflect.DeepEqual(saved, want) {
			t.Fatalf("Update returned %+v, want %+v", saved, want)
		}
		if loaded, err := settings.Load(ctx, db); err != nil || !reflect.DeepEqual(loaded, want) {
			t.Fatalf("Load = %+v, %v; want %+v", loaded, err, want)
		}
		doc, _ := stored(t, db)
		meta, _ := doc["cozyMetadata"].(map[string]any)
		if doc["factorSet"] != "" || doc["defaultModes"].(map[string]any)["bike"] != "BICYCLING_ELECTRIC" ||
			meta["createdByApp"] != "coachco2" || meta["createdAt"] == "" || meta["updatedAt"] == "" {
			t.Errorf("stored document %v", doc)
		}

		// Another factor set is stored by id; a place removed leaves the document.
		saved, err = settings.Update(ctx, db, func(s *settings.Settings) error {
			s.FactorSet = co2.ImpactCO2SetID
			s.Home = nil
			return nil
		})
		if err != nil || saved.FactorSet != co2.ImpactCO2SetID || saved.Home != nil || saved.BikeGoal.FirstName != "Camille" {
			t.Fatalf("Update = %+v, %v", saved, err)
		}
		doc, _ = stored(t, db)
		if _, ok := doc["home"]; ok || doc["factorSet"] != co2.ImpactCO2SetID {
			t.Errorf("stored document %v", doc)
		}
		// The default set chosen explicitly is stored by id; "" leaves it to the default again.
		for _, tt := range []struct{ set, want string }{{co2.DefaultSetID, co2.DefaultSetID}, {"", ""}} {
			if _, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.FactorSet = tt.set; return nil }); err != nil {
				t.Fatal(err)
			}
			if doc, _ = stored(t, db); doc["factorSet"] != tt.want {
				t.Errorf("factor set %q stored as %v, want %q", tt.set, doc["factorSet"], tt.want)
			}
		}
		if s, _ := settings.Load(ctx, db); s.FactorSet != co2.DefaultSetID {
			t.Errorf("Load gives factor set %q", s.FactorSet)
		}
	})
}

// Fields this version does not know are ignored on load and kept on update; fields the
// document leaves out get their defaults.
func TestUnknownFields(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		ctx := t.Context()
		doc := map[string]any{
			"bikeGoal":     map[string]any{"firstName": "Ana"},
			"consent":      map[string]any{"dacc": true},
			"futureOption": 42,
			"cozyMetadata": map[string]any{"createdAt": "2024-01-02T03:04:05Z", "createdByApp": "coachco2-web",
				"updatedByApps": []any{map[string]any{"slug": "coachco2-web", "date": "2024-01-02T03:04:05Z"}}},
		}
		if _, err := db.Put(ctx, settings.DocID, doc); err != nil {
			t.Fatal(err)
		}
		s, err := settings.Load(ctx, db)
		if err != nil || s.BikeGoal.Target != settings.DefaultBikeGoalTarget || s.BikeGoal.FirstName != "Ana" ||
			s.FactorSet != co2.DefaultSetID || s.DefaultModes == nil {
			t.Fatalf("Load = %+v, %v", s, err)
		}
		if _, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.Language = "fr"; return nil }); err != nil {
			t.Fatal(err)
		}
		got, _ := stored(t, db)
		meta := got["cozyMetadata"].(map[string]any)
		if got["futureOption"] != 42.0 || !reflect.DeepEqual(got["consent"], map[string]any{"dacc": true}) ||
			got["language"] != "fr" || meta["createdAt"] != "2024-01-02T03:04:05Z" || meta["createdByApp"] != "coachco2-web" ||
			len(meta["updatedByApps"].([]any)) != 2 {
			t.Errorf("stored document %v", got)
		}
	})
}

// Two updates of different fields at the same time are both kept.
func TestConcurrentUpdates(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		ctx := t.Context()
		// Deterministically: another update lands between this one's read and its write (both
		// creating the document), so this one conflicts, reads again and re-applies its change.
		calls := 0
		_, err := settings.Update(ctx, db, func(s *settings.Settings) error {
			calls++
			if calls == 1 {
				if _, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
					return err
				}
			}
			s.BikeGoal.Target = 150
			return nil
		})
		if s, _ := settings.Load(ctx, db); err != nil || calls != 2 || s.Language != "en" || s.BikeGoal.Target != 150 {
			t.Fatalf("interleaved updates: %v, %d calls, settings %+v", err, calls, s)
		}

		// And with real concurrency.
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		wg.Go(func() {
			for i := 1; i <= n; i++ {
				_, err := settings.Update(ctx, db, func(s *settings.Settings) error {
					s.BikeGoal.Target = 200 + i
					return nil
				})
				errs <- err
			}
		})
		wg.Go(func() {
			for i := 1; i <= n; i++ {
				_, err := settings.Update(ctx, db, func(s *settings.Settings) error {
					s.Devices = append(s.Devices, fmt.Sprintf("phone-%d", i))
					return nil
				})
				errs <- err
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s, err := settings.Load(ctx, db)
		if err != nil || s.BikeGoal.Target != 200+n || len(s.Devices) != n {
			t.Fatalf("after concurrent updates: %+v, %v; want target %d and %d devices", s, err, 200+n, n)
		}
		for i, d := range s.Devices {
			if d != fmt.Sprintf("phone-%d", i+1) {
				t.Errorf("devices %v", s.Devices)
				break
			}
		}
	})
}

// Invalid settings are refused with a clear error, and nothing is written.
func TestUpdateRefused(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		ctx := t.Context()
		_, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.BikeGoal.Target = 0; return nil })
		var invalid *settings.InvalidError
		if !errors.As(err, &invalid) || err.Error() != "settings: update: invalid settings: bikeGoal.target: 0 days is not between 1 and 366" {
			t.Fatalf("Update with target 0: %v", err)
		}
		if doc, _ := stored(t, db); doc != nil {
			t.Fatalf("an invalid first update wrote %v", doc)
		}
		if _, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.Language = "en"; return nil }); err != nil {
			t.Fatal(err)
		}
		_, rev := stored(t, db)
		_, err = settings.Update(ctx, db, func(s *settings.Settings) error {
			s.Language = "fr"
			s.DefaultModes[trip.GroupCar] = trip.Bus
			return nil
		})
		if !errors.As(err, &invalid) || invalid.Problems[0] != "defaultModes.car: mode BUS is not in the car group" {
			t.Fatalf("Update with a bus for cars: %v", err)
		}
		// An error of the change itself is returned as is.
		stop := errors.New("changed my mind")
		if _, err := settings.Update(ctx, db, func(s *settings.Settings) error { s.Language = "fr"; return stop }); err != stop {
			t.Fatalf("Update returned %v, want the change's error", err)
		}
		if doc, now := stored(t, db); now != rev || doc["language"] != "en" {
			t.Errorf("a refused update wrote: rev %s → %s, %v", rev, now, doc)
		}
	})
}

// Settings stored invalid (by hand, or by a newer version) are reported, and can be fixed.
func TestLoadInvalid(t *testing.T) {
	onBackends(t, func(t *testing.T, db *vault.DB) {
		ctx := t.Context()
		if _, err := db.Put(ctx, settings.DocID, json.RawMessage(`{"language":"xx","bikeGoal":{"target":400}}`)); err != nil {
			t.Fatal(err)
		}
		s, err := settings.Load(ctx, db)
		var invalid *settings.InvalidError
		if !errors.As(err, &invalid) || len(invalid.Problems) != 2 || s.Language != "xx" {
			t.Fatalf("Load = %+v, %v", s, err)
		}
		fixed, err := settings.Update(ctx, db, func(s *settings.Settings) error {
			s.Language, s.BikeGoal.Target = "", 300
			return nil
		})
		if err != nil || fixed.Language != "" || fixed.BikeGoal.Target != 300 {
			t.Fatalf("Update = %+v, %v", fixed, err)
		}
		if _, err := settings.Load(ctx, db); err != nil {
			t.Fatal(err)
		}
	})
}
