// Package tripsynctest fills a vault as a person's is filled, for the benchmarks of what reads
// it: generated users' trips synced by the connector's engine from a devserver serving composite
// trips, as a current e-mission server does.
package tripsynctest

import (
	"net/http/httptest"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// SyncGenerated syncs users generated users, over 5.75 years each, into v, and returns how many
// trips it created; fewer than minTrips fails tb.
func SyncGenerated(tb testing.TB, v *vault.Vault, users, minTrips int) int {
	tb.Helper()
	ctx := tb.Context()
	gen, err := tripgen.New(tripgen.Config{Users: users, Days: 2100, Seed: 42, Start: openpath.Date{Year: 2018, Month: 1, Day: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := devserver.New(devserver.Options{Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tokens := srv.AddGenerated(gen)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tripsDB, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		tb.Fatal(err)
	}
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		tb.Fatal(err)
	}
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		tb.Fatal(err)
	}
	// As the connector does: the figures of the trips written are left for the app.
	engine, err := tripsync.New(ctx, tripsDB, store, tripsync.WithFiguresFeed(figures.NewFeed(tripsDB, figures.SyncInputs(ctx, v))))
	if err != nil {
		tb.Fatal(err)
	}
	trips := 0
	for _, token := range tokens {
		a, _, err := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: token})
		if err != nil {
			tb.Fatal(err)
		}
		client, err := openpath.New(hs.URL, token)
		if err != nil {
			tb.Fatal(err)
		}
		sum, err := engine.Sync(ctx, a, client, tripsync.Options{})
		if err != nil || len(sum.Errors) > 0 {
			tb.Fatalf("sync: %v, %+v", err, sum)
		}
		trips += sum.Created
	}
	if trips < minTrips {
		tb.Fatalf("%d trips synced, want %d or more", trips, minTrips)
	}
	return trips
}
