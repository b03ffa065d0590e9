package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/peakmem"
	"github.com/coachco2/coachco2/pkg/tripsync/tripsynctest"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// BenchmarkReport is `app report` after the connector synced two generated users' 10,000-odd
// trips into a new vault, on each backend. See benchReport for what it measures.
func BenchmarkReport(b *testing.B) {
	for _, backend := range couch.Backends() {
		b.Run(backend.Name, func(b *testing.B) { benchReport(b, backend, 2, 10_000) })
	}
}

// BenchmarkReport100k is BenchmarkReport with 21 users, 100,000-odd trips, in the embedded vault
// (and 4 users, 20,000-odd trips, in pouchdb-server, which holds everything in the memory of one
// Node process): the steps whose cost grows faster than the trips show only there. It runs when
// COACHCO2_BENCH_LARGE is set (make bench-large): the sync alone takes minutes.
func BenchmarkReport100k(b *testing.B) {
	if os.Getenv("COACHCO2_BENCH_LARGE") == "" {
		b.Skip("set COACHCO2_BENCH_LARGE=1 (make bench-large) to run the 100k-trip report")
	}
	for _, backend := range couch.Backends() {
		users, trips := 21, 100_000
		if backend.Name != "embedded" {
			users, trips = 4, 20_000
		}
		b.Run(backend.Name, func(b *testing.B) { benchReport(b, backend, users, trips) })
	}
}

// benchReport syncs users generated users (about minTrips trips in all) into a new vault with the
// connector's engine, once, and then measures what a person meets, each time as `app report`
// runs (open the workspace, report, close):
//   - the first report after the sync, which finds the figures cache the sync fed (reading back
//     first-report-read trips): first-report-s, and the process's peak resident memory
//     meanwhile, first-report-rss-MB;
//   - the next reports, timed by the loop (ns/op), with the peak resident memory (peak-rss-MB,
//     the kernel's VmHWM, reset before the loop) and the Go heap's (peak-heap-MB).
func benchReport(b *testing.B, backend vaulttest.Backend, users, minTrips int) {
	ctx := b.Context()
	dsn, instance, n := syncGenerated(b, backend, users, minTrips)
	f := &cmdenv.Vault{DSN: dsn, Instance: instance}
	// report runs as `app report` does and returns what opening the workspace refreshed.
	report := func() figures.Result {
		ws, err := openWorkspace(ctx, f, true)
		if err != nil {
			b.Fatal(err)
		}
		res := ws.LastRefresh()
		r, err := ws.Report(ctx, indicators.Query{}, nil)
		if err != nil || r.Totals.Trips != n {
			b.Fatalf("report: %d trips, %v; want %d", r.Totals.Trips, err, n)
		}
		ws.Close()
		return res
	}
	// What the sync left in the heap is not the report's: give it back before measuring.
	runtime.GC()
	debug.FreeOSMemory()
	mem := peakmem.Start(b, 10*time.Millisecond)
	start := time.Now()
	firstRes := report()
	first := time.Since(start)
	firstRSS := mem.Stop().RSS
	runtime.GC()
	debug.FreeOSMemory()
	mem = peakmem.Start(b, 10*time.Millisecond)
	for b.Loop() {
		if res := report(); res.Checked != 0 {
			b.Fatalf("%d trips checked by a second report: the cache should be current", res.Checked)
		}
	}
	mem.Stop().Report(b)
	b.ReportMetric(first.Seconds(), "first-report-s")
	b.ReportMetric(float64(firstRSS)/(1<<20), "first-report-rss-MB")
	b.ReportMetric(float64(firstRes.Read), "first-report-read")
	b.ReportMetric(float64(n), "trips")
}

// syncGenerated syncs users generated users into a new vault of the backend (see
// tripsynctest.SyncGenerated) and returns the vault's DSN and instance and how many trips it
// holds. The vault is closed at the end, as the connector's process ends before the app's starts.
func syncGenerated(b *testing.B, backend vaulttest.Backend, users, minTrips int) (dsn, instance string, trips int) {
	v, dsn, instance := backend.Open(b)
	defer v.Close()
	return dsn, instance, tripsynctest.SyncGenerated(b, v, users, minTrips)
}
