package tripsync_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/peakmem"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// BenchmarkSync10k syncs two generated users' 10,000-odd trips into a new vault on each backend
// and reports trips/s, requests to the trip server per 1,000 trips, and the peak Go heap and
// resident set.
func BenchmarkSync10k(b *testing.B) {
	gen, err := tripgen.New(tripgen.Config{Users: 2, Days: 2100, Seed: 42, Start: openpath.Date{Year: 2018, Month: 1, Day: 1}})
	if err != nil {
		b.Fatal(err)
	}
	for _, backend := range couch.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := b.Context()
			var trips, requests int
			mem := peakmem.Start(b, 20*time.Millisecond)
			var elapsed time.Duration
			for b.Loop() {
				srv, err := devserver.New(devserver.Options{Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				tokens := srv.AddGenerated(gen)
				hs := httptest.NewServer(srv)
				v, _, _ := backend.Open(b)
				accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
				store, err := accounts.Open(ctx, accountsDB, nil)
				if err != nil {
					b.Fatal(err)
				}
				tripsDB, _ := v.DB(ctx, vault.DoctypeTrips)
				engine, err := tripsync.New(ctx, tripsDB, store)
				if err != nil {
					b.Fatal(err)
				}
				created := 0
				for _, token := range tokens {
					a, _, err := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: token})
					if err != nil {
						b.Fatal(err)
					}
					client, _ := openpath.New(hs.URL, token)
					start := time.Now()
					sum, err := engine.Sync(ctx, a, client, tripsync.Options{})
					elapsed += time.Since(start)
					if err != nil || len(sum.Errors) > 0 {
						b.Fatalf("sync: %v, %+v", err, sum)
					}
					created += sum.Created
					for _, r := range client.Stats().Routes {
						requests += int(r.Requests)
					}
				}
				if created < 10000 {
					b.Fatalf("%d trips generated, want 10,000 or more", created)
				}
				trips += created
				hs.Close()
			}
			b.ReportMetric(float64(trips)/elapsed.Seconds(), "trips/s")
			b.ReportMetric(float64(requests)*1000/float64(trips), "requests/1000trips")
			mem.Stop().Report(b)
		})
	}
}
