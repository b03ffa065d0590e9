package tripsync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// BenchmarkSync10k syncs two generated users' 10,000-odd trips into a new vault, on each backend,
// from a current server (composite trips) and an old one (getTrips). See benchSync for what it
// reports.
func BenchmarkSync10k(b *testing.B) { benchSync(b, 2, 10000) }

// BenchmarkSync100k is BenchmarkSync10k with twenty users, 100,000-odd trips: the steps whose cost
// grows faster than the trips show only there. It runs when COACHCO2_BENCH_LARGE is set (make
// bench-large): it takes minutes.
func BenchmarkSync100k(b *testing.B) {
	if os.Getenv("COACHCO2_BENCH_LARGE") == "" {
		b.Skip("set COACHCO2_BENCH_LARGE=1 (make bench-large) to run the 100k-trip sync")
	}
	benchSync(b, 20, 100000)
}

// benchSync syncs users generated users, over 5.75 years each (about minTrips trips in all), and
// reports after the loop:
//   - trips/s, the sync's speed, and raw-docs/s, the speed of writing the very documents it wrote
//     into a new vault of the same backend with the same index, in batches of 500 (the physical
//     limit); sync/raw-% is the one over the other;
//   - requests/1000trips to the trip server;
//   - VmHWM-MB, the process's peak resident memory during the sync (the embedded vault's mapped
//     pages included), and peak-heap-MB, the Go heap's.
func benchSync(b *testing.B, users, minTrips int) {
	gen, err := tripgen.New(tripgen.Config{Users: users, Days: 2100, Seed: 42, Start: openpath.Date{Year: 2018, Month: 1, Day: 1}})
	if err != nil {
		b.Fatal(err)
	}
	for _, backend := range couch.Backends() {
		for _, path := range []string{"composite", "getTrips"} {
			b.Run(backend.Name+"/"+path, func(b *testing.B) {
				var trips, requests, rawDocs int
				var syncTime, rawTime time.Duration
				var hwm uint64
				var peak atomic.Uint64
				stop := sampleHeap(&peak)
				defer stop()
				for b.Loop() {
					r := syncOnce(b, backend, gen, path == "getTrips", minTrips)
					trips += r.trips
					requests += r.requests
					syncTime += r.elapsed
					hwm = max(hwm, r.hwm)
					n, elapsed := rawWrite(b, backend, r.trips0)
					rawDocs += n
					rawTime += elapsed
				}
				syncRate := float64(trips) / syncTime.Seconds()
				rawRate := float64(rawDocs) / rawTime.Seconds()
				b.ReportMetric(syncRate, "trips/s")
				b.ReportMetric(rawRate, "raw-docs/s")
				b.ReportMetric(100*syncRate/rawRate, "sync/raw-%")
				b.ReportMetric(float64(requests)*1000/float64(trips), "requests/1000trips")
				b.ReportMetric(float64(hwm)/(1<<20), "VmHWM-MB")
				b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// syncResult is one sync of benchSync.
type syncResult struct {
	trips, requests int
	elapsed         time.Duration
	hwm             uint64
	// trips0 are the documents the sync wrote, without their revisions.
	trips0 []json.RawMessage
}

// syncOnce syncs gen's users into a new vault and returns what it took.
func syncOnce(b *testing.B, backend vaulttest.Backend, gen *tripgen.Generator, timelineOnly bool, minTrips int) syncResult {
	ctx := context.Background()
	srv, err := devserver.New(devserver.Options{Seed: 1, TimelineOnly: timelineOnly})
	if err != nil {
		b.Fatal(err)
	}
	tokens := srv.AddGenerated(gen)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	v, _, _ := backend.Open(b)
	tripsDB := benchTripsDB(b, v)
	accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		b.Fatal(err)
	}
	engine, err := tripsync.New(ctx, tripsDB, store)
	if err != nil {
		b.Fatal(err)
	}
	var r syncResult
	resetPeakRSS(b)
	for _, token := range tokens {
		a, _, err := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: token})
		if err != nil {
			b.Fatal(err)
		}
		client, _ := openpath.New(hs.URL, token)
		start := time.Now()
		sum, err := engine.Sync(ctx, a, client, tripsync.Options{})
		r.elapsed += time.Since(start)
		if err != nil || len(sum.Errors) > 0 {
			b.Fatalf("sync: %v, %+v", err, sum)
		}
		r.trips += sum.Created
		for _, st := range client.Stats().Routes {
			r.requests += int(st.Requests)
		}
	}
	r.hwm = peakRSS(b)
	if r.trips < minTrips {
		b.Fatalf("%d trips generated, want %d or more", r.trips, minTrips)
	}
	docs, err := vault.FindAll[map[string]json.RawMessage](ctx, tripsDB, vault.Query{})
	if err != nil {
		b.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		id := string(d["_id"])
		if seen[id] || strings.HasPrefix(id, `"_design/`) {
			continue // a find over every document may list one twice on the CouchDB-protocol server
		}
		seen[id] = true
		delete(d, "_rev")
		raw, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		r.trips0 = append(r.trips0, raw)
	}
	if len(r.trips0) != r.trips {
		b.Fatalf("%d documents read back, %d trips created", len(r.trips0), r.trips)
	}
	return r
}

// benchTripsDB opens the trips database of v with the sync's index.
func benchTripsDB(b *testing.B, v *vault.Vault) *vault.DB {
	ctx := context.Background()
	tripsDB, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		b.Fatal(err)
	}
	if err := tripsDB.EnsureIndexes(ctx, tripsync.Index); err != nil {
		b.Fatal(err)
	}
	return tripsDB
}

// rawWrite writes docs into a new vault's trips database, with the sync's index, in batches of
// 500: the speed a sync cannot beat.
func rawWrite(b *testing.B, backend vaulttest.Backend, docs []json.RawMessage) (int, time.Duration) {
	v, _, _ := backend.Open(b)
	db := benchTripsDB(b, v)
	start := time.Now()
	results, err := vault.SaveMany(context.Background(), db, docs, 500)
	elapsed := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	for _, res := range results {
		if res.Err != nil {
			b.Fatalf("raw write: %v", res.Err)
		}
	}
	return len(docs), elapsed
}

// resetPeakRSS resets the process's peak resident memory (VmHWM), as Linux allows.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak resident memory (%v): VmHWM is the process's since it started", err)
	}
}

// peakRSS reads the process's peak resident memory (VmHWM) in bytes.
func peakRSS(b *testing.B) uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) == 3 && string(f[0]) == "VmHWM:" {
			kb, err := strconv.ParseUint(string(f[1]), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
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
