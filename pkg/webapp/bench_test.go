package webapp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// BenchmarkAPILatency measures the dashboard's and the trip list's JSON API with 10,000 trips in
// the embedded vault, and reports the p50 and p95 latency of each (target: p95 under 50 ms).
func BenchmarkAPILatency(b *testing.B) {
	ctx := b.Context()
	v, err := vault.Open(ctx, filepath.Join(b.TempDir(), "vault.db"), "alice")
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	n := coachtest.Fill(b, v, 10_000)
	c, err := coach.Open(ctx, v)
	if err != nil {
		b.Fatal(err)
	}
	app, err := webapp.New(c, webapp.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	for _, path := range []string{"/api/dashboard", "/api/trips", "/api/trips?month=2023-06", "/api/analysis?period=2023"} {
		b.Run(path, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(n), "trips")
		})
	}
}
