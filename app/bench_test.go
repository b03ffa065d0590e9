package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/peakmem"
)

// BenchmarkReport is `app report` over 100,000 generated trips in the embedded vault (and 20,000
// in pouchdb-server, which holds everything in the memory of one Node process): opening (with the
// check that every trip's figures are current) and computing the indicators. The first opening,
// which checks every trip and builds the figures cache, is reported apart (first-open-s).
func BenchmarkReport(b *testing.B) {
	sizes := map[string]int{"embedded": 100_000, "pouchdb-server": 20_000, "couchdb": 100_000}
	for _, backend := range couch.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			v, dsn, instance := backend.Open(b)
			n := coachtest.Fill(b, v, sizes[backend.Name])
			ctx := b.Context()
			// The first opening checks every trip and builds the figures cache: a one-time cost.
			start := time.Now()
			f := &cmdenv.Vault{DSN: dsn, Instance: instance}
			ws, err := openWorkspace(ctx, f, true)
			if err != nil {
				b.Fatal(err)
			}
			ws.Close()
			b.ReportMetric(time.Since(start).Seconds(), "first-open-s")
			runtime.GC()
			mem := peakmem.Start(b, 10*time.Millisecond)
			for b.Loop() {
				ws, err := openWorkspace(ctx, f, true)
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
			mem.Stop().Report(b)
			b.ReportMetric(float64(n), "trips")
		})
	}
}
