package vault_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// tripStart is the start of the first benchmark trip; trip i starts
// tripEvery later than trip i-1.
var tripStart = time.Date(2022, 1, 1, 7, 30, 0, 0, time.UTC)

const tripEvery = 150 * time.Minute

// tripDoc returns a trip document shaped like those the OpenPATH connector
// writes (io.cozy.timeseries.geojson), of about 10 KB: one FeatureCollection
// with the start and end places and two sections, each a LineString with
// its per-point timestamps, speeds and distances.
func tripDoc(i int) map[string]any {
	start := tripStart.Add(time.Duration(i) * tripEvery)
	lon, lat := -1.1511+float64(i%97)*0.001, 46.1591+float64(i%89)*0.001
	section := func(n int, mode string, t0 time.Time, lon, lat float64) map[string]any {
		coords := make([][]float64, n)
		times := make([]float64, n)
		speeds := make([]float64, n)
		dists := make([]float64, n)
		for k := range n {
			coords[k] = []float64{math.Round((lon+float64(k)*0.00031)*1e7) / 1e7, math.Round((lat+float64(k)*0.00017)*1e7) / 1e7}
			times[k] = float64(t0.Unix() + int64(k*30))
			speeds[k] = math.Round((3.2+float64(k%7)*0.41)*1000) / 1000
			dists[k] = math.Round((28.3+float64(k%5)*3.7)*1000) / 1000
		}
		return map[string]any{
			"type":     "Feature",
			"geometry": map[string]any{"type": "LineString", "coordinates": coords},
			"properties": map[string]any{
				"feature_type": "section", "sensed_mode": "PredictedModeTypes." + mode,
				"start_fmt_time": t0.Format(time.RFC3339), "end_fmt_time": t0.Add(time.Duration(n*30) * time.Second).Format(time.RFC3339),
				"duration": float64(n * 30), "distance": float64(n) * 35.6,
				"times": times, "speeds": speeds, "distances": dists,
			},
		}
	}
	place := func(kind string, lon, lat float64, at time.Time) map[string]any {
		return map[string]any{
			"type":       "Feature",
			"geometry":   map[string]any{"type": "Point", "coordinates": []float64{lon, lat}},
			"properties": map[string]any{"feature_type": kind, "display_name": "Rue du Palais, La Rochelle", "enter_fmt_time": at.Format(time.RFC3339)},
		}
	}
	end := start.Add(36 * time.Minute)
	return map[string]any{
		"_id":           fmt.Sprintf("trip-%06d", i),
		"startDate":     start.Format(time.RFC3339),
		"endDate":       end.Format(time.RFC3339),
		"source":        "agremob.com",
		"captureDevice": "pixel-7",
		"series": []any{map[string]any{
			"type": "FeatureCollection",
			"properties": map[string]any{
				"start_fmt_time": start.Format(time.RFC3339), "end_fmt_time": end.Format(time.RFC3339),
				"distance": 5123.4, "duration": 2160.0,
			},
			"features": []any{
				place("start_place", lon, lat, start),
				place("end_place", lon+0.05, lat+0.03, end),
				section(106, "WALKING", start, lon, lat),
				section(106, "BUS", start.Add(18*time.Minute), lon+0.011, lat+0.006),
			},
		}},
		"cozyMetadata": map[string]any{
			"doctypeVersion": 1, "metadataVersion": 1, "createdAt": end.Format(time.RFC3339),
			"createdByApp": "openpath", "sourceAccount": "account-1", "sourceAccountIdentifier": "pixel-7",
		},
	}
}

// trips returns trips [from, from+n).
func trips(from, n int) []map[string]any {
	docs := make([]map[string]any, n)
	for i := range docs {
		docs[i] = tripDoc(from + i)
	}
	return docs
}

func TestTripDocSize(t *testing.T) {
	b, err := json.Marshal(tripDoc(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trip size %d bytes", len(b))
	if len(b) < 9000 || len(b) > 11000 {
		t.Fatalf("a benchmark trip is %d bytes, want about 10 KB", len(b))
	}
}

// saveAll writes docs and fails on any error.
func saveAll(tb testing.TB, db *vault.DB, docs []map[string]any) {
	tb.Helper()
	results, err := vault.SaveMany(tb.Context(), db, docs, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			tb.Fatal(r.Err)
		}
	}
}

// BenchmarkBulkWrite writes 1,000 trips of about 10 KB per operation, in
// batches of vault.DefaultBatchSize.
func BenchmarkBulkWrite(b *testing.B) {
	const perOp = 1000
	size, _ := json.Marshal(trips(0, perOp))
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			db := vaultsuite.OpenDB(b, openVault(b, be.dsn(b)), vault.DoctypeTrips)
			b.SetBytes(int64(len(size)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				docs := trips(i*perOp, perOp)
				b.StartTimer()
				saveAll(b, db, docs)
			}
			b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkQuery10k queries 10,000 trips: _find of one month of trips on
// the startDate index (whole documents, and projected on two fields), and
// the whole _changes feed in pages of 1,000 (without and with documents).
func BenchmarkQuery10k(b *testing.B) {
	const total = 10000
	ctx := b.Context()
	monthFrom, monthTo := "2023-03-01T00:00:00Z", "2023-04-01T00:00:00Z"
	// Trips start every 150 minutes from 2022-01-01T07:30Z: March 2023 holds
	// 297 of them (trips 4068 to 4364).
	const inMonth = 297
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			v := openVault(b, be.dsn(b))
			db := vaultsuite.OpenDB(b, v, vault.DoctypeTrips)
			if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-startDate", Fields: []string{"startDate"}}); err != nil {
				b.Fatal(err)
			}
			for from := 0; from < total; from += 1000 {
				saveAll(b, db, trips(from, 1000))
			}
			month := vault.Query{
				Selector: map[string]any{"startDate": map[string]any{"$gte": monthFrom, "$lt": monthTo}},
				Sort:     []vault.SortField{vault.Asc("startDate")},
			}
			// pouchdb-server builds an index on its first use: not timed.
			if _, err := vault.FindAll[json.RawMessage](ctx, db, month); err != nil {
				b.Fatal(err)
			}
			find := func(b *testing.B, q vault.Query) {
				b.ReportAllocs()
				for b.Loop() {
					n := 0
					if err := db.Find(ctx, q, func(json.RawMessage) error { n++; return nil }); err != nil {
						b.Fatal(err)
					}
					if n != inMonth {
						b.Fatalf("%d trips in the month, want %d", n, inMonth)
					}
				}
			}
			b.Run("find_month", func(b *testing.B) { find(b, month) })
			projected := month
			projected.Fields = []string{"startDate", "endDate"}
			b.Run("find_month_fields", func(b *testing.B) { find(b, projected) })
			changes := func(b *testing.B, includeDocs bool) {
				b.ReportAllocs()
				for b.Loop() {
					n, since := 0, ""
					for {
						page, last, err := db.Changes(ctx, vault.ChangesQuery{Since: since, Limit: 1000, IncludeDocs: includeDocs})
						if err != nil {
							b.Fatal(err)
						}
						if len(page) == 0 {
							break
						}
						n, since = n+len(page), last
					}
					if n != total {
						b.Fatalf("%d changes, want %d", n, total)
					}
				}
			}
			b.Run("changes_all", func(b *testing.B) { changes(b, false) })
			b.Run("changes_all_include_docs", func(b *testing.B) { changes(b, true) })
			// The revisions of a sync's batch, as its figures feed checks them; and 200 trips, as
			// the app reads them.
			ids := make([]string, 650)
			for i := range ids {
				ids[i] = tripDoc(4000 + i)["_id"].(string)
			}
			b.Run("revs_650", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if revs, err := db.Revs(ctx, ids); err != nil || len(revs) != len(ids) {
						b.Fatalf("%d revisions, %v", len(revs), err)
					}
				}
			})
			b.Run("get_many_200", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if docs, err := vault.GetMany[json.RawMessage](ctx, db, ids[:200]); err != nil || len(docs) != 200 {
						b.Fatalf("%d documents, %v", len(docs), err)
					}
				}
			})
		})
	}
}

// BenchmarkOpenEmbedded opens and closes an embedded vault file of 10,000 trips (about 100 MB),
// as each command of the app and the connector does: unchanged since its last clean close (the
// integrity check skipped), and touched before each open (SQLite's quick_check reads every page).
func BenchmarkOpenEmbedded(b *testing.B) {
	const total = 10000
	ctx := b.Context()
	dsn, instance := embeddedDSN(b), vaulttest.Instance(b)
	path := strings.TrimPrefix(dsn, "file:")
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		b.Fatal(err)
	}
	db, err := v.DB(ctx, vault.DoctypeTrips) // in a file of the test's own: nothing to destroy
	if err != nil {
		b.Fatal(err)
	}
	for from := 0; from < total; from += 1000 {
		saveAll(b, db, trips(from, 1000))
	}
	if err := v.Close(); err != nil {
		b.Fatal(err)
	}
	if info, err := os.Stat(path); err == nil {
		b.Logf("vault file: %d MB", info.Size()>>20)
	}
	open := func(b *testing.B, touch bool) {
		for b.Loop() {
			if touch {
				// Any change moves the file's ctime, so the next open checks it.
				b.StopTimer()
				now := time.Now()
				if err := os.Chtimes(path, now, now); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			v, err := vault.Open(ctx, dsn, instance)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("unchanged", func(b *testing.B) { open(b, false) })
	b.Run("changed", func(b *testing.B) { open(b, true) })
}
