// Package coachtest fills vaults with generated trips for the app's tests and benchmarks.
package coachtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Fill writes about n generated trips (users around La Rochelle, from 2022 on) into the vault, as
// the connector writes them, and returns how many it wrote. The app computes their figures when it
// opens the vault.
func Fill(tb testing.TB, v *vault.Vault, n int) int {
	tb.Helper()
	ctx := tb.Context()
	cfg := Config(n)
	users := cfg.Users
	gen, err := tripgen.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.EnsureIndexes(ctx, figures.Indexes...); err != nil {
		tb.Fatal(err)
	}
	var batch []*trip.Doc
	written := 0
	flush := func() {
		if _, err := vault.SaveMany(ctx, db, batch, 0); err != nil {
			tb.Fatal(err)
		}
		written += len(batch)
		batch = batch[:0]
	}
	for u := range users {
		device := fmt.Sprintf("phone-%d", u)
		gen.Trips(u, func(_ int, t *tripgen.Trip) bool {
			doc, err := openpath.FromTimeline(t.AppendGeoJSON(nil), openpath.Origin{Device: device, App: "openpath"}, time.Now())
			if err != nil {
				tb.Fatal(err)
			}
			batch = append(batch, doc)
			if len(batch) == 500 {
				flush()
			}
			return written+len(batch) < n
		})
	}
	flush()
	return written
}

// Config is the generator's configuration of Fill(n): its users (one per 2,500 trips), their
// homes and work places.
func Config(n int) tripgen.Config {
	return tripgen.Config{Users: max(1, n/2500), Days: 1100, Seed: 9, Start: openpath.Date{Year: 2022, Month: 1, Day: 1}}
}
