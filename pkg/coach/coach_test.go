package coach_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestNoVaultAccessHandedOut: the coach is the front ends' only way to the person's data; no
// method hands out the vault or one of its databases.
func TestNoVaultAccessHandedOut(t *testing.T) {
	forbidden := []reflect.Type{reflect.TypeFor[*vault.Vault](), reflect.TypeFor[*vault.DB]()}
	ct := reflect.TypeFor[*coach.Coach]()
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		for j := range m.Type.NumOut() {
			for _, f := range forbidden {
				if m.Type.Out(j) == f {
					t.Errorf("Coach.%s returns a %s: the front ends would bypass the coach", m.Name, f)
				}
			}
		}
	}
}

// TestSuggestPlaces: home and work suggested from generated trips land near the generator's.
func TestSuggestPlaces(t *testing.T) {
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const n = 400
	coachtest.Fill(t, v, n)
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	home, work, err := c.SuggestPlaces(ctx)
	if err != nil || home == nil || work == nil {
		t.Fatalf("suggestions: home %v, work %v, %v", home, work, err)
	}
	gen, err := tripgen.New(coachtest.Config(n))
	if err != nil {
		t.Fatal(err)
	}
	p := gen.Users()[0]
	for _, c := range []struct {
		name string
		got  places.Place
		want trip.Point
	}{{"home", home.Place, trip.Point{Lon: p.Home.Lon, Lat: p.Home.Lat}}, {"work", work.Place, trip.Point{Lon: p.Work.Lon, Lat: p.Work.Lat}}} {
		if d := places.Distance(c.got.Point(), c.want); d > 300 {
			t.Errorf("%s suggested %.0f m from the generator's", c.name, d)
		}
	}
}
