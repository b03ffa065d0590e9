package tripsync_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// TestMissingTripIsRetried: a trip find_entries announced but its day's getTrips answer left out
// is not lost when the cursor moves past it: the account keeps it, every run asks for its day
// again (one request), and it lands when the server sends it.
func TestMissingTripIsRetried(t *testing.T) {
	trips := generatedTrips(t, 5)
	late := trips[len(trips)/2]
	lateID := gjson.GetBytes(late, "id").String()
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		ctx := t.Context()
		e := newEnv(t, b, &devserver.UserData{Trips: trips})
		e.server.Withhold(lateID)
		sum := e.mustSync(tripsync.Options{})
		if sum.Created != len(trips)-1 || sum.ToRetry != 1 || !sum.Incomplete() {
			t.Fatalf("first run %+v: want %d trips and 1 to retry", sum, len(trips)-1)
		}
		a, err := e.store.Get(ctx, e.account)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Data.Retry) != 1 || a.Data.Cursors.Trips == 0 {
			t.Fatalf("account after the first run: retry %+v, cursor %v", a.Data.Retry, a.Data.Cursors)
		}
		requests := func() int64 { return e.server.Stats().Requests["/timeline/getTrips"] }

		before := requests()
		sum = e.mustSync(tripsync.Options{})
		if sum.ToRetry != 1 || !sum.Incomplete() {
			t.Fatalf("second run, still missing: %+v", sum)
		}
		if n := requests() - before; n != 1 {
			t.Fatalf("second run made %d getTrips requests: want 1, for the missing trip's day", n)
		}

		e.server.Withhold() // the server sends it now
		before = requests()
		sum = e.mustSync(tripsync.Options{})
		if sum.Created != 1 || sum.ToRetry != 0 || sum.Incomplete() {
			t.Fatalf("third run %+v: want the missing trip created and nothing left to retry", sum)
		}
		if n := requests() - before; n != 1 {
			t.Fatalf("third run made %d getTrips requests, want 1", n)
		}
		if _, ok := e.snapshot()[trip.DocID("phone-1", gjson.GetBytes(late, "properties.start_ts").Float())]; !ok {
			t.Fatal("the missing trip is not in the vault")
		}
		if a, _ = e.store.Get(ctx, e.account); len(a.Data.Retry) != 0 {
			t.Fatalf("the account still lists trips to retry: %+v", a.Data.Retry)
		}
	})
}

// TestMissingTripIsGivenUp: a trip still missing after two weeks and three runs is given up:
// reported as an error and kept among the account's failed trips, not asked for forever.
func TestMissingTripIsGivenUp(t *testing.T) {
	trips := generatedTrips(t, 2)
	lateID := gjson.GetBytes(trips[0], "id").String()
	b := couchBackend(t)
	e := newEnv(t, b, &devserver.UserData{Trips: trips})
	e.server.Withhold(lateID)
	now := time.Now()
	for i := range 3 {
		sum := e.mustSync(tripsync.Options{Now: func() time.Time { return now.Add(time.Duration(i) * 24 * time.Hour) }})
		if sum.ToRetry != 1 {
			t.Fatalf("run %d: %+v, want the trip still to retry", i+1, sum)
		}
	}
	sum := e.mustSync(tripsync.Options{Now: func() time.Time { return now.Add(15 * 24 * time.Hour) }})
	if sum.ToRetry != 0 || len(sum.Errors) != 1 || sum.Errors[0].Kind != tripsync.ErrorGaveUp {
		t.Fatalf("after two weeks: %+v, want the trip given up and reported", sum)
	}
	a, err := e.store.Get(t.Context(), e.account)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Data.Retry) != 0 || len(a.Data.FailedTrips) != 1 {
		t.Fatalf("account: retry %+v, failed %+v", a.Data.Retry, a.Data.FailedTrips)
	}
}

// couchBackend is the embedded backend, for tests whose subject is not the store.
func couchBackend(t *testing.T) vaulttest.Backend {
	t.Helper()
	for _, b := range couch.Backends() {
		if b.Name == "embedded" {
			return b
		}
	}
	t.Fatal("no embedded backend")
	return vaulttest.Backend{}
}

// TestTimeBudgetCutsAHungRequest: against a server that stops answering in the middle of a run,
// the run stops at its deadline (not after the client's retries), without an error, keeps what it
// saved, and the next run resumes.
func TestTimeBudgetCutsAHungRequest(t *testing.T) {
	trips := generatedTrips(t, 30)
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, &devserver.UserData{Trips: trips})
		var hang atomic.Bool
		var served atomic.Int32
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hang.Load() && strings.HasPrefix(r.URL.Path, "/timeline/getTrips") {
				_, _ = io.Copy(io.Discard, r.Body) // so that the server notices when the client hangs up
				<-r.Context().Done()               // accept, never answer
				return
			}
			if strings.HasPrefix(r.URL.Path, "/timeline/getTrips") && served.Add(1) == 3 {
				hang.Store(true) // the days after the third hang
			}
			e.server.ServeHTTP(w, r)
		}))
		defer hung.Close()
		a, err := e.store.Get(t.Context(), e.account)
		if err != nil {
			t.Fatal(err)
		}
		// The client's own patience is far longer than the budget: the budget must cut it.
		client, err := openpath.New(hung.URL, token, openpath.WithRequestTimeout(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		type result struct {
			sum tripsync.Summary
			err error
		}
		done := make(chan result, 1)
		go func() {
			sum, err := e.engine.Sync(t.Context(), a, client, tripsync.Options{Deadline: deadline, FirstWindow: 24 * time.Hour})
			done <- result{sum, err}
		}()
		var res result
		select {
		case res = <-done:
		case <-time.After(2 * time.Minute): // a guard, not a wait: the run must end long before
			t.Fatal("the run is still going two minutes after its 3 s budget")
		}
		if res.err != nil || !res.sum.Partial {
			t.Fatalf("run against a hung server: %+v, %v; want a partial run, no error", res.sum, res.err)
		}
		if over := time.Since(deadline); over > 5*time.Second {
			t.Fatalf("the run ended %v after its deadline, want within 5 s", over)
		}
		saved := len(e.snapshot())
		if saved == 0 || saved == len(trips) {
			t.Fatalf("%d trips saved before the server hung, want some", saved)
		}
		addsUp(t, res.sum)
		hang.Store(false)
		served.Store(-1 << 20)
		sum := e.mustSync(tripsync.Options{})
		if got := len(e.snapshot()); got != len(trips) || sum.Partial {
			t.Fatalf("the next run: %+v, %d trips in the vault, want %d", sum, got, len(trips))
		}
	})
}

// TestWindowOverTheSizeCap: a window whose answer is over the client's size cap is asked for
// again in shorter windows, instead of failing at every run.
func TestWindowOverTheSizeCap(t *testing.T) {
	trips := generatedTrips(t, 20)
	e := newEnv(t, couchBackend(t), &devserver.UserData{Trips: trips})
	a, err := e.store.Get(t.Context(), e.account)
	if err != nil {
		t.Fatal(err)
	}
	// A cap that a day's entries fit in, and twenty days' do not.
	client, err := openpath.New(e.http.URL, token, openpath.WithMaxAnswerBytes(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.engine.Sync(t.Context(), a, client, tripsync.Options{FirstWindow: 60 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("sync with a small answer cap: %v (%+v)", err, sum)
	}
	if sum.Created != len(trips) {
		t.Fatalf("%+v: want all %d trips", sum, len(trips))
	}
}
