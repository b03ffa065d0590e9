package webapp_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripsync/tripsynctest"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// benchTrips is how many trips the web app's benchmarks sync: about 5.75 years of two people's
// trips (two devices in one vault).
const benchTrips = 10_000

// syncedApp serves the web app over a new embedded vault filled as a person's is: about minTrips
// generated trips synced by the connector's engine from a devserver serving composite trips (as a
// current e-mission server does), then the coach opened over it (which computes every trip's
// figures). It logs how long the sync and the opening took.
func syncedApp(b *testing.B, minTrips int) (*httptest.Server, *coach.Coach) {
	b.Helper()
	ctx := b.Context()
	v, err := vault.Open(ctx, filepath.Join(b.TempDir(), "vault.db"), "alice")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	start := time.Now()
	synced := tripsynctest.SyncGenerated(b, v, 2, minTrips)
	syncTime := time.Since(start)
	start = time.Now()
	c, err := coach.Open(ctx, v)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d trips synced in %v; the coach opened (every trip's figures computed) in %v", synced, syncTime, time.Since(start))
	app, err := webapp.New(c, webapp.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	b.Cleanup(srv.Close)
	return srv, c
}

// BenchmarkAPILatency measures the JSON API as a person meets it after a sync of 10,000 trips into
// the embedded vault: the dashboard, the trip list's first page, a month's trips, a year's
// analysis and a trip's detail, each with 1 and 16 clients asking at once. After one warm-up
// request (first-ms: the first answer, which may read what later ones find cached), each iteration
// is one request; it reports the p50 and p95 latency (target: p95 under 50 ms at 16 clients) and
// the requests answered per second, and app-first-ms, the app's very first answer after opening.
func BenchmarkAPILatency(b *testing.B) {
	srv, _ := syncedApp(b, benchTrips)
	var list struct {
		Trips []struct {
			ID string `json:"id"`
		} `json:"trips"`
	}
	// The app's first answer after it opened (reported as app-first-ms by every sub-benchmark):
	// it may bring the figures cache up to date with what the opening wrote.
	start := time.Now()
	if err := json.Unmarshal(getBody(b, http.DefaultClient, srv.URL+"/api/trips?month=2023-06"), &list); err != nil || len(list.Trips) == 0 {
		b.Fatalf("no trip in 2023-06 to ask the detail of (%v)", err)
	}
	appFirst := time.Since(start)
	endpoints := []struct{ name, path string }{
		{"dashboard", "/api/dashboard"},
		{"trips", "/api/trips"},
		{"month", "/api/trips?month=2023-06"},
		{"year", "/api/analysis?period=2023"},
		{"trip", "/api/trips/" + url.PathEscape(list.Trips[len(list.Trips)/2].ID)},
	}
	for _, clients := range []int{1, 16} {
		for _, e := range endpoints {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, e.name), func(b *testing.B) {
				// As many connections as clients, kept open as a browser's are.
				hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
				defer hc.CloseIdleConnections()
				start := time.Now()
				getBody(b, hc, srv.URL+e.path)
				first := time.Since(start)
				lat := loadTest(b, hc, srv.URL+e.path, clients)
				slices.Sort(lat.each)
				b.ReportMetric(float64(lat.each[len(lat.each)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat.each[len(lat.each)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(len(lat.each))/lat.elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
				b.ReportMetric(float64(appFirst.Microseconds())/1000, "app-first-ms")
			})
		}
	}
}

// latencies are a load test's: each request's, and the whole test's duration.
type latencies struct {
	each    []time.Duration
	elapsed time.Duration
}

// loadTest asks for u once per b.Loop iteration, from clients goroutines: an iteration waits only
// until one of them is free, so that clients requests are in flight at any time.
func loadTest(b *testing.B, hc *http.Client, u string, clients int) latencies {
	jobs := make(chan struct{})
	results := make(chan []time.Duration, clients)
	var failed sync.Once
	failure := make(chan string, 1)
	for range clients {
		go func() {
			var mine []time.Duration
			for range jobs {
				start := time.Now()
				if err := fetch(hc, u); err != nil {
					failed.Do(func() { failure <- err.Error() })
					continue
				}
				mine = append(mine, time.Since(start))
			}
			results <- mine
		}()
	}
	start := time.Now()
	for b.Loop() {
		jobs <- struct{}{}
	}
	close(jobs)
	var lat latencies
	for range clients {
		lat.each = append(lat.each, <-results...)
	}
	lat.elapsed = time.Since(start)
	select {
	case msg := <-failure:
		b.Fatal(msg)
	default:
	}
	return lat
}

// fetch asks for u and reads the answer, which must be a 200.
func fetch(hc *http.Client, u string) error {
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// getBody asks for u and returns the answer, which must be a 200.
func getBody(b *testing.B, hc *http.Client, u string) []byte {
	resp, err := hc.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d, %v", u, resp.StatusCode, err)
	}
	return body
}

// BenchmarkSettingsRecompute measures a change of factor set or of default mode after a sync of
// 10,000 trips: the settings form's answer (post-ms; the recompute runs in the background) and the
// time from the POST until the background recompute of every trip's figures is done (recompute-s;
// target: under 2 s). Iterations go round four settings, each one change from the last: another
// factor set, back, a default car mode, back.
func BenchmarkSettingsRecompute(b *testing.B) {
	srv, c := syncedApp(b, benchTrips)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	forms := []url.Values{
		{"factorSet": {co2.ImpactCO2SetID}},
		{"factorSet": {co2.DefaultSetID}},
		{"factorSet": {co2.DefaultSetID}, "default-" + string(trip.GroupCar): {string(trip.CarElectric)}},
		{"factorSet": {co2.DefaultSetID}},
	}
	var post, done time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		form := forms[i%len(forms)]
		form.Set("target", "100")
		resp, err := noFollow.PostForm(srv.URL+"/settings", form)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("save the settings: %s", resp.Status)
		}
		post += time.Since(start)
		p, err := c.WaitRecompute(b.Context())
		if err != nil || p.Failed || p.Done != p.Total || p.Total < benchTrips {
			b.Fatalf("recompute: %+v, %v; want every trip recomputed", p, err)
		}
		done += time.Since(start)
		i++
	}
	b.ReportMetric(float64(post.Microseconds())/1000/float64(i), "post-ms")
	b.ReportMetric(done.Seconds()/float64(i), "recompute-s")
}
