package openpath_test

import (
	"slices"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// BenchmarkClientTrips fetches a generated year of trips (about 1,000) the way a connector does:
// confirmed_trip entries by write time in 30-day windows, then getTrips for each local day. The
// devserver runs in the same process over loopback HTTP, so the figures include its rendering.
// Reported: trips/s, requests per 1,000 trips, answer bytes per trip, and allocations per op.
func BenchmarkClientTrips(b *testing.B) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 365, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv, url := newDevserver(b, devserver.Options{})
	token := srv.AddGenerated(gen)[0]
	ctx := b.Context()
	var c *openpath.Client
	trips := 0
	b.ReportAllocs()
	for b.Loop() {
		c = newClient(b, url, token)
		span, err := c.PipelineRange(ctx)
		if err != nil {
			b.Fatal(err)
		}
		const window = 30 * 86400
		for from := span.StartTS; from <= span.EndTS+3600; from += window {
			entries, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: []string{openpath.KeyConfirmedTrip}, Start: from, End: from + window})
			if err != nil {
				b.Fatal(err)
			}
			var days []openpath.Date
			for _, e := range entries {
				h, _ := e.TripHeader()
				d, err := h.StartDate()
				if err != nil {
					b.Fatal(err)
				}
				days = append(days, d)
			}
			slices.SortFunc(days, openpath.Date.Compare)
			for _, d := range slices.Compact(days) {
				got, err := c.Trips(ctx, d)
				if err != nil {
					b.Fatal(err)
				}
				trips += len(got)
			}
		}
	}
	st := c.Stats().Total()
	perRun := c.Stats().Routes[openpath.RouteGetTrips].Items
	b.ReportMetric(float64(trips)/b.Elapsed().Seconds(), "trips/s")
	b.ReportMetric(float64(st.Requests)*1000/float64(perRun), "requests/1000trips")
	b.ReportMetric(float64(c.Stats().Routes[openpath.RouteGetTrips].Bytes)/float64(perRun), "B/trip")
}

// BenchmarkFromComposite converts a generated user's composite trip entries (about 43 kB each,
// their locations included), as a sync does each one.
func BenchmarkFromComposite(b *testing.B) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 20, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var entries [][]byte
	gen.Trips(0, func(_ int, t *tripgen.Trip) bool {
		entries = append(entries, t.AppendCompositeEntry(nil, gen.Users()[0].UUID, t.ProcessedTS))
		return true
	})
	now := time.Now()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, e := range entries {
			if _, err := openpath.FromComposite(e, openpath.Origin{Device: "d"}, now); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "trips/s")
}
