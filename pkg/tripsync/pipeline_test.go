package tripsync_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
)

// TestNextWindowAskedWhileOneConverts: the next window is asked for as soon as an answer has
// arrived, so that the server prepares it while the connector converts the one it has. The first
// window's conversion waits here for the second window's request: were the request sent only
// after the conversion, it would never come.
func TestNextWindowAskedWhileOneConverts(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 60, Seed: 5, Start: openpath.Date{Year: 2023, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, couchBackend(t), nil)
	server, err := devserver.New(devserver.Options{Seed: 1}) // composite trips: converted in the pipeline
	if err != nil {
		t.Fatal(err)
	}
	server.AddGenerated(gen)
	var windowRequests atomic.Int32
	second := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var q struct {
			KeyTime string `json:"key_time"`
		}
		if json.Unmarshal(body, &q) == nil && q.KeyTime == openpath.KeyTimeWriteTS && windowRequests.Add(1) == 2 {
			close(second)
		}
		server.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var once sync.Once
	var overlapped atomic.Bool
	tripsync.SetBeforeConvert(e.engine, func() {
		once.Do(func() {
			select {
			case <-second:
				overlapped.Store(true)
			case <-time.After(20 * time.Second): // a guard, not a wait: the request comes at once, or never
			}
		})
	})
	a, _, err := e.store.Ensure(t.Context(), accounts.New{ServerURL: srv.URL, Token: "user001", Device: "user001"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := openpath.New(srv.URL, "user001")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.engine.Sync(t.Context(), a, client, tripsync.Options{FirstWindow: 24 * time.Hour})
	if err != nil || sum.Created == 0 || len(sum.Errors) > 0 {
		t.Fatalf("sync: %+v, %v; want trips created, no error", sum, err)
	}
	if n := windowRequests.Load(); n < 2 {
		t.Fatalf("%d windows asked for, want two or more for this test", n)
	}
	if !overlapped.Load() {
		t.Fatal("the second window was not asked for while the first one was converted")
	}
}
