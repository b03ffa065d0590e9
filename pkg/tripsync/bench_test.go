package tripsync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/peakmem"
	"github.com/coachco2/coachco2/pkg/proccpu"
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
//     into a new vault of the same backend with the same indexes, in batches of 500 (the physical
//     limit); sync/raw-% is the one over the other;
//   - requests/1000trips to the trip server;
//   - VmHWM-MB, the process's peak resident memory during the sync (the embedded vault's mapped
//     pages included; the trip server runs in a process of its own, see syncOnce), and
//     peak-heap-MB, the Go heap's over the whole run (the raw writes included);
//   - the CPU time per trip of the sync (sync-cpu-us/trip, the connector's process, the vault's
//     writes included), of the trip server's process while it answered (server-cpu-us/trip), and
//     of the raw write (raw-cpu-us/doc): on this machine's cores, the sync cannot take less than
//     their sum over the cores, however its steps overlap; on a server backend, also its
//     server's CPU time per trip during the sync (vault-cpu-us/trip) and per document during
//     the raw write (raw-vault-cpu-us/doc), when its process is this binary's to read.
func benchSync(b *testing.B, users, minTrips int) {
	for _, backend := range couch.Backends() {
		for _, path := range []string{"composite", "getTrips"} {
			b.Run(backend.Name+"/"+path, func(b *testing.B) {
				var trips, requests, rawDocs int
				var syncTime, rawTime, syncCPU, serverCPU, rawCPU, syncVaultCPU, rawVaultCPU time.Duration
				var hwm uint64
				mem := peakmem.Start(b, 20*time.Millisecond)
				for b.Loop() {
					r := syncOnce(b, backend, devserverSpec{Users: users, Days: 2100, Seed: 42, TimelineOnly: path == "getTrips"}, minTrips)
					trips += r.trips
					requests += r.requests
					syncTime += r.elapsed
					hwm = max(hwm, r.hwm)
					syncCPU += r.cpu
					serverCPU += r.serverCPU
					syncVaultCPU += r.vaultCPU
					raw := rawWrite(b, backend, r.trips0, r.trips)
					rawDocs += raw.docs
					rawTime += raw.elapsed
					rawCPU += raw.cpu
					rawVaultCPU += raw.vaultCPU
				}
				syncRate := float64(trips) / syncTime.Seconds()
				rawRate := float64(rawDocs) / rawTime.Seconds()
				b.ReportMetric(syncRate, "trips/s")
				b.ReportMetric(rawRate, "raw-docs/s")
				b.ReportMetric(100*syncRate/rawRate, "sync/raw-%")
				b.ReportMetric(float64(requests)*1000/float64(trips), "requests/1000trips")
				b.ReportMetric(float64(hwm)/(1<<20), "VmHWM-MB")
				b.ReportMetric(float64(mem.Stop().Heap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(syncCPU.Microseconds())/float64(trips), "sync-cpu-us/trip")
				b.ReportMetric(float64(serverCPU.Microseconds())/float64(trips), "server-cpu-us/trip")
				b.ReportMetric(float64(rawCPU.Microseconds())/float64(rawDocs), "raw-cpu-us/doc")
				if _, ok := vaultCPU(backend); ok {
					b.ReportMetric(float64(syncVaultCPU.Microseconds())/float64(trips), "vault-cpu-us/trip")
					b.ReportMetric(float64(rawVaultCPU.Microseconds())/float64(rawDocs), "raw-vault-cpu-us/doc")
				}
			})
		}
	}
}

// syncResult is one sync of benchSync.
type syncResult struct {
	trips, requests int
	elapsed         time.Duration
	hwm             uint64
	// cpu is the process's CPU time during the syncs, serverCPU the trip server's, vaultCPU the
	// vault's server's (0 for the embedded store).
	cpu, serverCPU, vaultCPU time.Duration
	// trips0 holds the documents the sync wrote.
	trips0 *vault.DB
}

// syncOnce syncs the generated users into a new vault and returns what it took. The trip server
// runs in a process of its own, as a real one runs on another machine: the process's resident
// memory (VmHWM) is then the connector's and its vault's alone. Its CPU still counts against the
// sync's time, on the same machine.
func syncOnce(b *testing.B, backend vaulttest.Backend, spec devserverSpec, minTrips int) syncResult {
	ctx := context.Background()
	url, tokens, serverCPU := startDevserver(b, spec)
	v, _, _ := backend.Open(b)
	tripsDB := benchTripsDB(b, v)
	accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		b.Fatal(err)
	}
	// As the connector runs: the figures of the trips written are fed into the app's figures cache.
	engine, err := tripsync.New(ctx, tripsDB, store, tripsync.WithFiguresFeed(figures.NewFeed(tripsDB, figures.SyncInputs(ctx, v))))
	if err != nil {
		b.Fatal(err)
	}
	var r syncResult
	// Under the connector's memory limit, as the command runs (connector/main.go).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(tripsync.MemoryLimit))
	runtime.GC()
	resetPeakRSS(b)
	cpu0, serverCPU0 := processCPU(b), serverCPU()
	vaultCPU0, _ := vaultCPU(backend)
	for _, token := range tokens {
		a, _, err := store.Ensure(ctx, accounts.New{ServerURL: url, Token: token, Device: token})
		if err != nil {
			b.Fatal(err)
		}
		client, _ := openpath.New(url, token)
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
	vaultCPU1, _ := vaultCPU(backend)
	r.cpu, r.serverCPU, r.vaultCPU = processCPU(b)-cpu0, serverCPU()-serverCPU0, vaultCPU1-vaultCPU0
	if r.trips < minTrips {
		b.Fatalf("%d trips generated, want %d or more", r.trips, minTrips)
	}
	r.trips0 = tripsDB
	return r
}

// devserverEnv, set to a devserverSpec in JSON, makes the test binary a trip server (see
// TestMain).
const devserverEnv = "COACHCO2_TRIPSYNC_DEVSERVER"

// devserverSpec is the users a benchmark's trip server generates.
type devserverSpec struct {
	Users, Days  int
	Seed         int64
	TimelineOnly bool
}

// devserverReady is the line a trip server process writes once it listens.
type devserverReady struct {
	URL    string
	Tokens []string
}

// serveDevserver serves generated users on a loopback port until its standard input closes.
func serveDevserver(spec string) int {
	var s devserverSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "devserver spec:", err)
		return 2
	}
	gen, err := tripgen.New(tripgen.Config{Users: s.Users, Days: s.Days, Seed: s.Seed, Start: openpath.Date{Year: 2018, Month: 1, Day: 1}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := devserver.New(devserver.Options{Seed: 1, TimelineOnly: s.TimelineOnly})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tokens := srv.AddGenerated(gen)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { _ = http.Serve(ln, srv) }()
	ready, _ := json.Marshal(devserverReady{URL: "http://" + ln.Addr().String(), Tokens: tokens})
	fmt.Printf("%s\n", ready)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes it, or ends
	return 0
}

// startDevserver starts a trip server process for spec, stopped when b ends. cpu reads the
// process's CPU time so far.
func startDevserver(b *testing.B, spec devserverSpec) (url string, tokens []string, cpu func() time.Duration) {
	js, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), devserverEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the server's signal to stop
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	var ready devserverReady
	if err == nil {
		err = json.Unmarshal(line, &ready)
	}
	if err != nil {
		b.Fatalf("trip server process: %v", err)
	}
	pid := cmd.Process.Pid
	return ready.URL, ready.Tokens, func() time.Duration { return childCPU(b, pid) }
}

// processCPU is the CPU time, user and system, of this process so far.
func processCPU(b *testing.B) time.Duration {
	cpu, err := proccpu.Self()
	if err != nil {
		b.Fatal(err)
	}
	return cpu
}

// childCPU is the CPU time of the running process pid so far.
func childCPU(b *testing.B, pid int) time.Duration {
	cpu, err := proccpu.Of(pid)
	if err != nil {
		b.Skipf("cannot read the trip server's CPU time: %v", err)
	}
	return cpu
}

// vaultCPU is the CPU time the backend's server process has used so far; 0 and false without
// one this binary can read (the embedded store; see vaulttest.Server.CPU).
func vaultCPU(backend vaulttest.Backend) (cpu time.Duration, ok bool) {
	if backend.ServerCPU == nil {
		return 0, false
	}
	return backend.ServerCPU()
}

// benchTripsDB opens the trips database of v with the indexes the connector keeps: the sync's and
// the app's.
func benchTripsDB(b *testing.B, v *vault.Vault) *vault.DB {
	ctx := context.Background()
	tripsDB, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		b.Fatal(err)
	}
	if err := tripsDB.EnsureIndexes(ctx, append([]vault.Index{tripsync.Index}, figures.Indexes...)...); err != nil {
		b.Fatal(err)
	}
	return tripsDB
}

// rawResult is what a raw write took.
type rawResult struct {
	docs int
	// elapsed, cpu and vaultCPU are the writes' time, the process's CPU time during them and the
	// vault's server's.
	elapsed, cpu, vaultCPU time.Duration
}

// rawWrite writes the documents of src, without their revisions, into a new vault's trips
// database, with the same indexes, in batches of 500: the speed a sync cannot beat. Only the writes
// are timed; the documents are read 500 at a time, so that memory stays flat.
func rawWrite(b *testing.B, backend vaulttest.Backend, src *vault.DB, want int) rawResult {
	ctx := context.Background()
	v, _, _ := backend.Open(b)
	db := benchTripsDB(b, v)
	seen := map[string]bool{}
	batch := make([]json.RawMessage, 0, 500)
	var r rawResult
	flush := func() error {
		vault0, _ := vaultCPU(backend)
		start, cpu0 := time.Now(), processCPU(b)
		results, err := vault.SaveMany(ctx, db, batch, 500)
		r.elapsed += time.Since(start)
		r.cpu += processCPU(b) - cpu0
		vault1, _ := vaultCPU(backend)
		r.vaultCPU += vault1 - vault0
		if err != nil {
			return err
		}
		for _, res := range results {
			if res.Err != nil {
				return fmt.Errorf("raw write: %w", res.Err)
			}
		}
		r.docs += len(batch)
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
	if r.docs != want {
		b.Fatalf("%d documents written raw, %d trips created", r.docs, want)
	}
	return r
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
