package webapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// newApp serves the shared samples' trips from a new embedded vault.
func newApp(t *testing.T) (*httptest.Server, *coach.Coach) {
	t.Helper()
	srv, c, _ := newAppVault(t, filepath.Join(t.TempDir(), "vault.db"), "alice")
	return srv, c
}

// newAppVault serves the shared samples' trips from a new embedded vault at path, which it
// returns open.
func newAppVault(t *testing.T, path, instance string) (*httptest.Server, *coach.Coach, *vault.Vault) {
	t.Helper()
	ctx := t.Context()
	v, err := vault.Open(ctx, path, instance)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	srv, c := serveVault(t, v)
	return srv, c, v
}

// serveVault fills v with the shared samples' trips and serves them, with offline maps as
// `app serve` reads them.
func serveVault(t *testing.T, v *vault.Vault) (*httptest.Server, *coach.Coach) {
	t.Helper()
	now := func() time.Time { return time.Date(2016, 12, 20, 12, 0, 0, 0, time.UTC) }
	return serveVaultWith(t, v, webapp.Options{Now: now, Locale: "fr", OpenBaseMap: openBaseMap})
}

// newAppWith serves the shared samples' trips from a new embedded vault, with opts.
func newAppWith(t *testing.T, opts webapp.Options) (*httptest.Server, *coach.Coach) {
	t.Helper()
	v, err := vault.Open(t.Context(), filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return serveVaultWith(t, v, opts)
}

// serveVaultWith fills v with the shared samples' trips and serves them with opts.
func serveVaultWith(t *testing.T, v *vault.Vault, opts webapp.Options) (*httptest.Server, *coach.Coach) {
	t.Helper()
	ctx := t.Context()
	db, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	var docs []*trip.Doc
	for _, raw := range sampledata.TimelineTrips(t) {
		d, err := openpath.FromTimeline(raw, openpath.Origin{Device: "phone", App: "openpath"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if _, err := vault.SaveMany(ctx, db, docs, 0); err != nil {
		t.Fatal(err)
	}
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	app, err := webapp.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return srv, c
}

func get(t *testing.T, u string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEveryScreenRenders(t *testing.T) {
	srv, c := newApp(t)
	list, _, err := c.ListTrips(t.Context(), coach.TripQuery{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/":                        "CO2 des 12 derniers mois",
		"/trips":                   "76 trajets",
		"/trips?month=2016-07":     "28 trajets",
		"/trips?mode=AIR_OR_HSR":   "Avion",
		"/trips/" + list[0].ID:     "<svg class=\"map\"",
		"/analysis?period=2016":    "Par mode",
		"/analysis?period=2016-06": "Par motif",
		"/settings":                "Facteurs d&#39;émission",
		"/exports":                 "CSV",
		"/static/app.css":          "--accent",
	} {
		code, body := get(t, srv.URL+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, code, want)
		}
	}
	if code, body := get(t, srv.URL+"/", "Accept-Language", "en"); code != 200 || !strings.Contains(body, "CO2 of the last 12 months") && !strings.Contains(body, "CO2 des 12") {
		t.Errorf("dashboard: %d", code)
	}
	for path, status := range map[string]int{"/trips/nope": 404, "/analysis?period=20": 400, "/trips?mode=BOAT": 400} {
		if code, _ := get(t, srv.URL+path); code != status {
			t.Errorf("GET %s: %d, want %d", path, code, status)
		}
	}
}

// TestAPIs checks each screen's data, and that an edit persists and recomputes.
func TestAPIs(t *testing.T) {
	srv, _ := newApp(t)
	_, body := get(t, srv.URL+"/api/dashboard")
	dash := gjson.Parse(body)
	if dash.Get("months.#").Int() != 12 || dash.Get("report.period.to").String() != "2016-12" {
		t.Fatalf("dashboard months %s", dash.Get("months").Raw)
	}
	_, body = get(t, srv.URL+"/api/trips?month=2016-08")
	trips := gjson.Parse(body)
	if trips.Get("total").Int() != 2 {
		t.Fatalf("trips of August 2016: %s", trips.Get("total").Raw)
	}
	// The flight of 2016-08-05 has an AIR_OR_HSR section: correct it to a train.
	var id string
	var kg float64
	for _, tr := range trips.Get("trips").Array() {
		for _, m := range tr.Get("modes").Array() {
			if m.String() == "AIR_OR_HSR" {
				id, kg = tr.Get("id").String(), tr.Get("co2_kg").Float()
			}
		}
	}
	if id == "" {
		t.Fatal("no flight in August 2016")
	}
	_, body = get(t, srv.URL+"/api/trips/"+url.PathEscape(id))
	detail := gjson.Parse(body)
	idx := -1
	for i, s := range detail.Get("aggregation.sections").Array() {
		if s.Get("mode").String() == "AIR_OR_HSR" {
			idx = i
		}
	}
	edit, _ := json.Marshal(map[string]any{"sectionModes": map[string]string{itoa(idx): "TRAIN"}, "purpose": "TRAVEL"})
	resp, err := http.Post(srv.URL+"/api/trips/"+url.PathEscape(id), "application/json", strings.NewReader(string(edit)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	after := gjson.ParseBytes(b)
	if resp.StatusCode != 200 || after.Get("trip.aggregation.totalCO2").Float() >= kg/10 || after.Get("trip.aggregation.purpose").String() != "TRAVEL" {
		t.Fatalf("edit: %d %s (CO2 before %.1f kg)", resp.StatusCode, after.Get("trip.aggregation.totalCO2").Raw, kg)
	}
	// Persisted and counted: the report of August changed.
	_, body = get(t, srv.URL+"/api/analysis?period=2016-08")
	if gjson.Get(body, "report.by_mode.TRAIN").Exists() == false || gjson.Get(body, "report.by_purpose.TRAVEL.trips").Int() != 1 {
		t.Fatalf("analysis after the edit: %s", gjson.Get(body, "report.by_mode").Raw)
	}
	// A malformed edit changes nothing.
	resp, _ = http.Post(srv.URL+"/api/trips/"+url.PathEscape(id), "application/json", strings.NewReader(`{"sectionModes": {"0": "BOAT"}}`))
	if resp.StatusCode != 400 {
		t.Fatalf("unknown mode: %d, want 400", resp.StatusCode)
	}
	_, body = get(t, srv.URL+"/api/settings")
	if gjson.Get(body, "settings.bikeGoal.target").Int() != 100 {
		t.Fatalf("settings: %s", body)
	}
}

func TestFormEditAndCSV(t *testing.T) {
	srv, c := newApp(t)
	list, _, _ := c.ListTrips(t.Context(), coach.TripQuery{Limit: 1})
	id := list[0].ID
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/trips/"+url.PathEscape(id), url.Values{"form": {"trip"}, "purpose": {"SHOPPING"}, "title": {"Market"}, "section-0": {"BUS"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: %d", resp.StatusCode)
	}
	_, a, err := c.Trip(t.Context(), id)
	if err != nil || a.Purpose != trip.Shopping || a.Sections[0].Mode != trip.Bus {
		t.Fatalf("after the form: %s %v (%v)", a.Purpose, a.Modes, err)
	}
	code, body := get(t, srv.URL+"/exports/trips.csv?from=2016-01&to=2016-12")
	// 2016's trips have 94 of the samples' 114 sections (the 20 others are of 2015-07-22).
	if code != 200 || !strings.HasPrefix(body, "Trip_Id,Trip_Start_Date") || strings.Count(body, "\n") != 95 {
		t.Fatalf("CSV export: %d, %d lines", code, strings.Count(body, "\n"))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestGeoJSONAndAttestation(t *testing.T) {
	srv, c := newApp(t)
	code, body := get(t, srv.URL+"/exports/trips.geojson?from=2016-01&to=2016-12")
	if code != 200 || gjson.Get(body, "type").String() != "FeatureCollection" || gjson.Get(body, "features.#").Int() != 94 {
		t.Fatalf("GeoJSON export: %d, %d features", code, gjson.Get(body, "features.#").Int())
	}
	if code, _ := get(t, srv.URL+"/exports/attestation.pdf?year=2016"); code != 400 {
		t.Fatalf("an attestation without a name: %d, want 400", code)
	}
	// Home and work at the ends of a sample trip by bike make it a commute, so a bike day.
	ctx := t.Context()
	list, _, _ := c.ListTrips(ctx, coach.TripQuery{Mode: trip.Bicycling})
	if len(list) == 0 {
		t.Fatal("no bike trip in the samples")
	}
	_, a, _ := c.Trip(ctx, list[0].ID)
	_, err := c.UpdateSettings(ctx, func(s *settings.Settings) error {
		s.Home = &places.Place{Lon: a.Coordinates.StartPoint.Lon, Lat: a.Coordinates.StartPoint.Lat}
		s.Work = &places.Place{Lon: a.Coordinates.EndPoint.Lon, Lat: a.Coordinates.EndPoint.Lat}
		s.BikeGoal.FirstName, s.BikeGoal.LastName, s.BikeGoal.Employer, s.BikeGoal.Place = "Camille", "Durand", "Ville de La Rochelle", "La Rochelle"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at, err := c.Attestation(ctx, 2016, "fr", time.Now())
	if err != nil || len(at.Days) == 0 {
		t.Fatalf("attestation days: %v, %v", at.Days, err)
	}
	code, body = get(t, srv.URL+"/exports/attestation.pdf?year=2016")
	if code != 200 || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("attestation: %d %q", code, body[:min(20, len(body))])
	}
}

// TestTileServer: no basemap by default; with a tile server set, the trip's map draws its tiles.
func TestTileServer(t *testing.T) {
	srv, c := newApp(t)
	list, _, _ := c.ListTrips(t.Context(), coach.TripQuery{Limit: 1})
	_, body := get(t, srv.URL+"/trips/"+list[0].ID)
	if strings.Contains(body, "<image") {
		t.Fatal("a basemap is drawn without a tile server")
	}
	if _, err := c.UpdateSettings(t.Context(), func(s *settings.Settings) error {
		s.TileServer = "https://tiles.example.org/{z}/{x}/{y}.png"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, srv.URL+"/trips/"+list[0].ID)
	if !strings.Contains(body, `<image href="https://tiles.example.org/`) {
		t.Fatal("no tile drawn with a tile server set")
	}
}

// TestFrenchOnScreen: in French, numbers are written with a decimal comma, as in the
// attestation, and counts come through the catalog as numbers.
func TestFrenchOnScreen(t *testing.T) {
	srv, c := newApp(t) // French: the instance's locale
	list, _, err := c.ListTrips(t.Context(), coach.TripQuery{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	comma, point := regexp.MustCompile(`\d,\d+ (km|kg)`), regexp.MustCompile(`\d\.\d+ (km|kg)`)
	for _, path := range []string{"/", "/analysis?period=2016", "/trips", "/trips/" + url.PathEscape(list[0].ID)} {
		_, body := get(t, srv.URL+path)
		if !comma.MatchString(body) {
			t.Errorf("GET %s: no number with a decimal comma", path)
		}
		if m := point.FindString(body); m != "" {
			t.Errorf("GET %s: %q, want a decimal comma", path, m)
		}
	}
	// After a correction given to similar trips, the trip says to how many.
	_, body := get(t, srv.URL+"/trips/"+url.PathEscape(list[0].ID)+"?saved=1&propagated=2")
	if !strings.Contains(body, "Le motif a été donné à 2 trajets similaires.") {
		t.Errorf("no count of the similar trips in\n%s", body)
	}
}
