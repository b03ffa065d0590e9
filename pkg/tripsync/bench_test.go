package tripsync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/peakmem"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// BenchmarkSync10k syncs two generated users' 10,000-odd trips into a new vault, on each backend,
// from a current server (composite trips) and an old one (getTrips). See benchSync for what it
// reports.
func BenchmarkSync10k(b *testing.B) { benchSync(b, 2, 10000) }

// BenchmarkSync100k is BenchmarkSync10k with 21 users, 100,000-odd trips: the steps whose cost
// grows faster than the trips show only there. It runs when COACHCO2_BENCH_LARGE is set (make
// bench-large): it takes minutes.
func BenchmarkSync100k(b *testing.B) {
	if os.Getenv("COACHCO2_BENCH_LARGE") == "" {
		b.Skip("set COACHCO2_BENCH_LARGE=1 (make bench-large) to run the 100k-trip sync")
	}
	benchSync(b, 21, 100000)
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
				mem := peakmem.Start(b, 20*time.Millisecond)
				for b.Loop() {
					r := syncOnce(b, backend, gen, path == "getTrips", minTrips)
					trips += r.trips
					requests += r.requests
					syncTime += r.elapsed
					hwm = max(hwm, r.hwm)
					n, elapsed := rawWrite(b, backend, r.trips0, r.trips)
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
				b.ReportMetric(float64(mem.Stop().Heap)/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// syncResult is one sync of benchSync.
type syncResult struct {
	trips, requests int
	elapsed         time.Duration
	hwm             uint64
	// trips0 holds the documents the sync wrote.
	trips0 *vault.DB
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
	r.trips0 = tripsDB
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

// rawWrite writes the documents of src, without their revisions, into a new vault's trips
// database, with the sync's index, in batches of 500: the speed a sync cannot beat. Only the writes
// are timed; the documents are read 500 at a time, so that memory stays flat.
func rawWrite(b *testing.B, backend vaulttest.Backend, src *vault.DB, want int) (int, time.Duration) {
	ctx := context.Background()
	v, _, _ := backend.Open(b)
	db := benchTripsDB(b, v)
	var elapsed time.Duration
	n := 0
	seen := map[string]bool{}
	batch := make([]json.RawMessage, 0, 500)
	flush := func() error {
		start := time.Now()
		results, err := vault.SaveMany(ctx, db, batch, 500)
		elapsed += time.Since(start)
		if err != nil {
			return err
		}
		for _, res := range results {
			if res.Err != nil {
				return fmt.Errorf("raw write: %w", res.Err)
			}
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	err := src.Find(ctx, vault.Query{}, func(raw json.RawMessage) error {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		id := string(d["_id"])
		if seen[id] || strings.HasPrefix(id, `"_design/`) {
			return nil // a find over every document may list one twice on the CouchDB-protocol server
		}
		seen[id] = true
		delete(d, "_rev")
		doc, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if batch = append(batch, doc); len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		b.Fatal(err)
	}
	if n != want {
		b.Fatalf("%d documents written raw, %d trips created", n, want)
	}
	return n, elapsed
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
