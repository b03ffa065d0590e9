package tripsync_test

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// BenchmarkSync10k syncs two generated users' 10,000-odd trips into a new vault on each backend
// and reports trips/s, requests to the trip server per 1,000 trips, and the peak Go heap.
func BenchmarkSync10k(b *testing.B) {
	gen, err := tripgen.New(tripgen.Config{Users: 2, Days: 2100, Seed: 42, Start: openpath.Date{Year: 2018, Month: 1, Day: 1}})
	if err != nil {
		b.Fatal(err)
	}
	for _, backend := range couch.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := context.Background()
			var trips, requests int
			var peak atomic.Uint64
			stop := sampleHeap(&peak)
			defer stop()
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
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		})
	}
}

// sampleHeap records the largest heap in use until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { close(done) }
}
