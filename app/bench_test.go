package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/aggregate"
	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/vault"
)

// fillVault writes about n generated trips, with their figures computed, into the vault.
func fillVault(b *testing.B, v *vault.Vault, n int) int {
	ctx := context.Background()
	users := max(1, n/2500)
	gen, err := tripgen.New(tripgen.Config{Users: users, Days: 1100, Seed: 9, Start: openpath.Date{Year: 2022, Month: 1, Day: 1}})
	if err != nil {
		b.Fatal(err)
	}
	db, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.EnsureIndexes(ctx, aggregate.Indexes...); err != nil {
		b.Fatal(err)
	}
	set, _ := co2.Lookup(co2.DefaultSetID)
	in := aggregate.NewInputs(set, settings.Defaults())
	var batch []*trip.Doc
	written := 0
	flush := func() {
		if _, err := vault.SaveMany(ctx, db, batch, 0); err != nil {
			b.Fatal(err)
		}
		written += len(batch)
		batch = batch[:0]
	}
	for u := range users {
		device := fmt.Sprintf("phone-%d", u)
		gen.Trips(u, func(_ int, t *tripgen.Trip) bool {
			doc, err := trip.FromTimeline(t.AppendGeoJSON(nil), trip.Origin{Device: device, App: "openpath"}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			a, err := aggregate.Compute(doc, in)
			if err != nil {
				b.Fatal(err)
			}
			doc.Aggregation = mustJSON(b, a)
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

// BenchmarkReport is `app report` over 100,000 generated trips in the embedded vault (and 20,000
// in pouchdb-server, which holds everything in the memory of one Node process): opening (with the
// check that every trip's figures are current) and computing the indicators. The first opening,
// which checks every trip and builds the figures cache, is reported apart (first-open-s).
func BenchmarkReport(b *testing.B) {
	sizes := map[string]int{"embedded": 100_000, "pouchdb-server": 20_000, "couchdb": 100_000}
	for _, backend := range couch.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			v, dsn, instance := backend.Open(b)
			n := fillVault(b, v, sizes[backend.Name])
			ctx := context.Background()
			// The first opening checks every trip and builds the figures cache: a one-time cost.
			start := time.Now()
			f := vaultFlags{dsn: dsn, instance: instance}
			ws, err := f.open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			ws.Close()
			b.ReportMetric(time.Since(start).Seconds(), "first-open-s")
			var peak atomic.Uint64
			stop := sampleHeap(&peak)
			defer stop()
			runtime.GC()
			for b.Loop() {
				f := vaultFlags{dsn: dsn, instance: instance}
				ws, err := f.open(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n := ws.LastRefresh().Recomputed; n != 0 {
					b.Fatalf("%d trips recomputed on opening: the figures written should be current", n)
				}
				r, err := ws.Report(ctx, indicators.Query{}, nil)
				if err != nil || r.Totals.Trips != n {
					b.Fatalf("report: %d trips, %v; want %d", r.Totals.Trips, err, n)
				}
				ws.Close()
			}
			b.ReportMetric(float64(n), "trips")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		})
	}
}

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
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() { close(done) }
}

func mustJSON(b *testing.B, v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
