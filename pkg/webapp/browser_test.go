package webapp_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/browsertest"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/webapp"
	"github.com/coachco2/coachco2/pkg/websec"
)

// TestInABrowser drives Debian's Chromium through the app: the dashboard, a trip, a section's
// mode changed from its select (the CO2 changes), every screen on a phone, and no request ever
// leaves the app's origin. Screenshots go to testout/ for review.
func TestInABrowser(t *testing.T) {
	_, c := newApp(t)
	// As `app serve` runs it: behind the security middleware (CSP, sessions, CSRF), on loopback.
	app, err := webapp.New(c, webapp.Options{Now: func() time.Time { return time.Date(2016, 12, 20, 12, 0, 0, 0, time.UTC) }, CSRFToken: websec.CSRFToken, OpenBaseMap: openBaseMap})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := websec.NewAuth("", websec.AuthOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(websec.Protect(app.Handler(), websec.Config{Auth: auth}))
	defer srv.Close()
	b := browsertest.New(t, srv.URL)
	b.SetViewport(1280, 900)
	b.Navigate("/")
	b.WaitVisible("svg.chart")
	b.Screenshot("dashboard")

	// A car trip: set its car section to a bike.
	ctx := t.Context()
	list, _, err := c.ListTrips(ctx, coach.TripQuery{Mode: trip.Car})
	if err != nil || len(list) == 0 {
		t.Fatalf("no car trip: %v", err)
	}
	var id string
	var section int
	for _, l := range list {
		_, a, _ := c.Trip(ctx, l.ID)
		for i, s := range a.Sections {
			if s.Mode == trip.Car && s.CO2 > 0.1 && id == "" {
				id, section = l.ID, i
			}
		}
	}
	b.Navigate("/trips")
	b.Click(`a[href="/trips/` + id + `"]`)
	b.WaitVisible("svg.map")
	before := b.Text("#trip-co2")
	b.Screenshot("trip")
	b.SetValue("#section-"+itoa(section), "BICYCLING") // the select submits the form
	b.WaitVisible("p.saved")                           // the page after the redirect
	if after := b.Text("#trip-co2"); after == before {
		t.Fatalf("the CO2 stayed %s after the section became a bike ride", before)
	}
	b.Screenshot("trip-corrected")
	if _, a, _ := c.Trip(ctx, id); a.Sections[section].Mode != trip.Bicycling {
		t.Fatalf("the correction was not saved: %s", a.Sections[section].Mode)
	}

	for _, path := range []string{"/analysis?period=2016", "/settings", "/exports"} {
		b.Navigate(path)
		b.WaitVisible("main h1")
		b.Screenshot(strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(path), "-"))
	}
	// An offline base map: its tiles come from the app itself, under the route.
	_, a, err := c.Trip(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	baseMap := areaMap(t, a.Coordinates.StartPoint.Lat, a.Coordinates.StartPoint.Lon)
	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error { s.BaseMap = baseMap; return nil }); err != nil {
		t.Fatal(err)
	}
	b.Navigate("/trips/" + id)
	b.WaitVisible("svg.map image")
	b.Screenshot("trip-basemap")
	b.SetViewport(390, 844)
	for _, path := range []string{"/", "/trips", "/trips/" + id} {
		b.Navigate(path)
		b.WaitVisible("main h1")
		b.Screenshot("phone" + strings.ReplaceAll(strings.TrimSuffix(path, "/"), "/", "-"))
	}
	if f := b.Foreign(""); len(f) > 0 {
		t.Errorf("requests outside the app's origin: %q", f)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("page errors: %q", p)
	}
}

// TestConnectInABrowser: a person connects their account from the Connections screen, in a real
// browser behind the security middleware: the page shows the sync running, reloads itself when
// it is over, and the account's trips appear in the app.
func TestConnectInABrowser(t *testing.T) {
	w := newConnected(t)
	app, err := webapp.New(w.coach, webapp.Options{Locale: "en", CSRFToken: websec.CSRFToken})
	if err != nil {
		t.Fatal(err)
	}
	app.EnableConnections(t.Context(), w.svc)
	auth, err := websec.NewAuth("", websec.AuthOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(websec.Protect(app.Handler(), websec.Config{Auth: auth}))
	defer srv.Close()
	b := browsertest.New(t, srv.URL)
	b.SetViewport(1280, 900)
	b.Navigate("/connections")
	b.WaitVisible("#connect")
	b.SetValue("#server", "other")
	b.SetValue("#server-url", w.tracker)
	b.SendKeys("#token", w.token)
	b.Click("#connect")
	// The page shows the sync running and reloads itself when it is over; the test waits for the
	// sync's end itself, then loads the page, rather than race the page's reload.
	<-w.synced
	w.svc.Wait()
	b.Navigate("/connections")
	b.WaitText(".last-sync", "(done)")
	b.Screenshot("connections")
	if n := b.Text("dd.trip-count"); n == "0" || n == "" {
		t.Fatalf("the account shows %q trips after its first sync", n)
	}
	b.Navigate("/trips")
	b.WaitVisible(`a[href^="/trips/openpath-"]`)
	if f := b.Foreign(""); len(f) > 0 {
		t.Errorf("requests outside the app's origin: %q", f)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("page errors: %q", p)
	}
}
