package engine_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"html"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/coachco2/coachco2/cozyapp/engine"
	"github.com/coachco2/coachco2/pkg/browsertest"
	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// downloads makes the tab save its downloads in a folder, and returns a function that waits for
// the next one and returns its file name, as the page named it, and its bytes.
func downloads(t *testing.T, b *browsertest.Browser) func() (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	type event struct{ guid, name, state string }
	begun, ended := make(chan event, 16), make(chan event, 16)
	err := chromedp.Listen(b.Context(), func(ev any) {
		// Listen's fn must not block: the channels have room for more downloads than a test makes.
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			select {
			case begun <- event{guid: ev.GUID, name: ev.SuggestedFilename}:
			default:
			}
		case *browser.EventDownloadProgress:
			if ev.State != browser.DownloadProgressStateInProgress {
				select {
				case ended <- event{guid: ev.GUID, state: string(ev.State)}:
				default:
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	err = chromedp.Do(b.Context(), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
		return err
	}))
	if err != nil {
		t.Fatalf("let the tab download: %v", err)
	}
	return func() (string, []byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		var start, end event
		select {
		case start = <-begun:
		case <-ctx.Done():
			t.Fatal("no download began")
		}
		select {
		case end = <-ended:
		case <-ctx.Done():
			t.Fatalf("the download of %s did not end", start.name)
		}
		if end.guid != start.guid || end.state != string(browser.DownloadProgressStateCompleted) {
			t.Fatalf("the download of %s ended %s", start.name, end.state)
		}
		body, err := os.ReadFile(filepath.Join(dir, end.guid))
		if err != nil {
			t.Fatal(err)
		}
		return start.name, body
	}
}

// listShown is a trip list as a screen shows it: the trips' links in order, the count and the
// page links.
type listShown struct {
	Rows  []string `json:"rows"`
	Count string   `json:"count"`
	Pager []string `json:"pager"`
}

// pageList is the trip list the Cozy page shows.
func pageList(b *browsertest.Browser) listShown {
	return browsertest.Evaluate[listShown](b, `({
		rows: [...document.querySelectorAll("#screen table.trips tbody tr a")].map((a) => a.getAttribute("href")),
		count: document.querySelector("#screen form.filters").nextElementSibling.textContent,
		pager: [...document.querySelectorAll("#screen nav.pager a")].map((a) => a.getAttribute("href"))})`)
}

var (
	rowLink   = regexp.MustCompile(`<a href="(/trips/[^"]+)">`)
	countText = regexp.MustCompile(`(?s)</form>\s*<p>([^<]*)</p>`)
	pagerNav  = regexp.MustCompile(`(?s)<nav class="pager"[^>]*>(.*?)</nav>`)
	hrefAttr  = regexp.MustCompile(`href="([^"]*)"`)
)

// webList is the trip list the web app's page at path shows.
func webList(t *testing.T, h http.Handler, path string) listShown {
	t.Helper()
	body, _ := webGet(t, h, path)
	l := listShown{Rows: []string{}, Pager: []string{}}
	if i, j := strings.Index(body, "<tbody>"), strings.Index(body, "</tbody>"); i >= 0 && j > i {
		for _, m := range rowLink.FindAllStringSubmatch(body[i:j], -1) {
			l.Rows = append(l.Rows, html.UnescapeString(m[1]))
		}
	}
	if m := countText.FindStringSubmatch(body); m != nil {
		l.Count = html.UnescapeString(m[1])
	}
	if m := pagerNav.FindStringSubmatch(body); m != nil {
		for _, a := range hrefAttr.FindAllStringSubmatch(m[1], -1) {
			l.Pager = append(l.Pager, html.UnescapeString(a[1]))
		}
	}
	if l.Count == "" {
		t.Fatalf("no count of trips in the web app's %s", path)
	}
	return l
}

// webGet is the web app's answer to GET path: its body and headers.
func webGet(t *testing.T, h http.Handler, path string) (string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("the web app answered %d to %s: %.300s", rec.Code, path, rec.Body.String())
	}
	return rec.Body.String(), rec.Header()
}

func sameList(t *testing.T, what string, got, want listShown) {
	t.Helper()
	if len(want.Rows) == 0 {
		t.Fatalf("%s: the web app shows no trip: pick a filter that shows some", what)
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("%s: the Cozy page shows\n%s\nthe web app\n%s", what, gotJSON, wantJSON)
	}
}

// pdfStream is a PDF's stream, compressed by fpdf.
var pdfStream = regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`)

// pdfPages returns the content of each page of an fpdf PDF, in order: what a reader draws and
// writes. The rest of the file is not compared: it holds the time the file was written, and fpdf
// writes the fonts in the order of a Go map (so the web app's own files differ from one answer to
// the next).
func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	var pages []string
	for _, m := range pdfStream.FindAllSubmatch(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			t.Fatalf("a stream of the PDF: %v", err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("a stream of the PDF: %v", err)
		}
		pages = append(pages, string(b))
	}
	if len(pages) == 0 {
		t.Fatalf("no page in the PDF: %.200q", pdf)
	}
	return pages
}

// TestCozyScreens installs the bundle in the stack double over the shared samples, runs its
// service, and checks in Chromium the screens the Cozy page shares with `app serve` beyond the
// dashboard: the trip list's filters and pages show the web app's lists; the settings' form,
// once the service has run, gives the figures of `app report --json` with the same settings;
// and the CSV and GeoJSON of a range of months and the attestation of a year download with the
// web app's bytes over the same vault.
func TestCozyScreens(t *testing.T) {
	ctx := t.Context()
	dir := buildBundle(t)
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	home, err := vault.OpenCozy(ctx, stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	save(t, home, sampleTrips(t))
	home.Close()
	app := stack.InstallApp(t, "coachco2-local", dir)
	runService(t, dir, stack.URL, app.Token)

	v, err := vault.OpenCozy(ctx, stack.URL, app.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	screens, err := v.DB(ctx, engine.DoctypeScreens)
	if err != nil {
		t.Fatal(err)
	}
	// web is the web app over the same vault as the engine's, at the engine's last run.
	web := func() (http.Handler, *coach.Coach) {
		t.Helper()
		var s engine.Screens
		if _, err := screens.Get(ctx, engine.ScreensID, &s); err != nil {
			t.Fatal(err)
		}
		c, err := coach.Open(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		now := s.Computed.Local()
		a, err := webapp.New(c, webapp.Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return a.Handler(), c
	}
	h, c := web()

	b := browsertest.New(t, app.URL)
	b.SetViewport(1280, 900)
	next := downloads(t, b)

	// The trip list's filters: the month with the most trips and the mode of its first one.
	all, total, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		t.Fatal(err)
	}
	perMonth := map[string]int{}
	for _, s := range all {
		perMonth[s.Start[:7]]++
	}
	months := slices.Sorted(maps.Keys(perMonth))
	t.Logf("%d trips over %d months", total, len(months))
	if len(months) < 3 {
		t.Fatalf("the samples cover %v: a range inside them needs 3 months at least", months)
	}
	month := months[0]
	for _, m := range months {
		if perMonth[m] > perMonth[month] {
			month = m
		}
	}
	var mode trip.Mode
	for _, s := range all {
		if s.Start[:7] == month && len(s.Modes) > 0 {
			mode = s.Modes[0]
			break
		}
	}
	b.Navigate("/#/trips")
	filters := `#screen form.filters`
	b.WaitVisible(filters + ` input[name="month"]`)
	b.SetValue(filters+` input[name="month"]`, month)
	b.SetValue(filters+` select[name="mode"]`, string(mode))
	// filter submits the form and checks the list against the web app's for the same query.
	count := filters + " + p"
	filter := func(what string, q url.Values) {
		t.Helper()
		want := webList(t, h, "/trips?"+q.Encode())
		b.Click(filters + ` button[type="submit"]`)
		b.WaitText(count, want.Count)
		sameList(t, what, pageList(b), want)
	}
	q := url.Values{"month": {month}, "mode": {string(mode)}, "purpose": {""}, "device": {""}}
	filter("month "+month+" and mode "+string(mode), q)
	b.Screenshot("cozy-trips-filtered")
	// A month alone, and its next page when it has one, else the whole list's.
	b.SetValue(filters+` select[name="mode"]`, "")
	q.Set("mode", "")
	filter("month "+month, q)
	if perMonth[month] <= webapp.TripsPerPage {
		b.SetValue(filters+` input[name="month"]`, "")
		q.Set("month", "")
		filter("every trip", q)
	}
	if total > webapp.TripsPerPage {
		nextPage := browsertest.Evaluate[string](b, `document.querySelector("#screen nav.pager a[rel=next]").getAttribute("href")`)
		b.Click(`#screen nav.pager a[rel=next]`)
		b.WaitVisible(`#screen nav.pager a[rel=prev]`)
		sameList(t, "the next page", pageList(b), webList(t, h, nextPage))
	} else {
		t.Logf("%d trips fit in one page: the pages are not checked", total)
	}

	// The analysis of a month and of a year, as the web app's.
	b.Navigate("/?analysis#/analysis")
	period := `#screen form[action="/analysis"]`
	for _, p := range []string{month, month[:4]} {
		want := webList(t, h, "/analysis?period="+p).Count // the period's totals, after its form
		b.WaitVisible(period + ` input[name="period"]`)
		b.SetValue(period+` input[name="period"]`, p)
		b.Click(period + ` button[type="submit"]`)
		b.WaitVisible(period + ` input[name="period"][value="` + p + `"]`)
		if got := b.Text(period + " + p"); got != want {
			t.Fatalf("the analysis of %s shows %q, the web app's %q", p, got, want)
		}
	}

	// The settings: another factor set, electric cars by default, and the person's details for
	// the attestation. The map's fields are left out in a Cozy.
	b.Navigate("/?settings#/settings")
	form := `#screen form[action="/settings"]`
	b.WaitVisible(form + ` button[type="submit"]`)
	if browsertest.Evaluate[bool](b, `document.querySelector('#screen [name="tileServer"]') !== null`) {
		t.Error("the settings offer a tile server, which the stack's CSP would block")
	}
	// A form the web app refuses shows, after the service's run, as `app serve` answers it.
	b.SetValue(form+` input[name="home"]`, "not a place")
	b.Click(form + ` button[type="submit"]`)
	b.WaitVisible("#screen p.saved")
	runService(t, dir, stack.URL, app.Token)
	b.Navigate("/?refused#/settings")
	b.WaitVisible(`#screen p.error[role="alert"]`)
	if got := b.Text(`#screen p.error`); !strings.Contains(got, "home") {
		t.Errorf("the refused settings say %q", got)
	}
	b.WaitVisible(form + ` button[type="submit"]`)

	var other *co2.FactorSet
	for _, s := range co2.Sets() {
		if s.ID != c.Settings().FactorSet && (c.Settings().FactorSet != "" || s.ID != co2.DefaultSetID) {
			other = s
			break
		}
	}
	if other == nil {
		t.Fatal("only one factor set")
	}
	b.Click(form + ` input[name="factorSet"][value="` + other.ID + `"]`)
	b.SetValue(form+` select[name="default-car"]`, string(trip.CarElectric))
	details := map[string]string{"firstName": "Alice", "lastName": "Martin", "employer": "Acme", "place": "La Rochelle"}
	for _, k := range slices.Sorted(maps.Keys(details)) {
		b.SetValue(form+` input[name="`+k+`"]`, details[k])
	}
	b.Click(form + ` button[type="submit"]`)
	b.WaitVisible("#screen p.saved")
	b.Screenshot("cozy-settings")
	before := report(t, screens)
	runService(t, dir, stack.URL, app.Token)

	// `app report --json` with the same settings (and the same trips).
	_, local := wantReport(t)
	if _, err := local.UpdateSettings(ctx, func(s *settings.Settings) error {
		s.FactorSet = other.ID
		s.DefaultModes = map[trip.Group]trip.Mode{trip.GroupCar: trip.CarElectric}
		s.BikeGoal.FirstName, s.BikeGoal.LastName = details["firstName"], details["lastName"]
		s.BikeGoal.Employer, s.BikeGoal.Place = details["employer"], details["place"]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want, err := local.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	after := report(t, screens)
	if after != string(wantJSON) {
		t.Fatalf("after the settings changed, the engine's report differs from app report --json with the same settings:\n got %s\nwant %s", after, wantJSON)
	}
	if after == before {
		t.Fatal("the report did not change with the factor set and the default car")
	}
	b.Navigate("/?settings=saved#/")
	b.WaitVisible("#screen #this-month")
	last := months[len(months)-1]
	if shown := b.Text("#this-month .big"); math.Abs(number(t, shown)-want.ByMonth[last].CO2Kg) > 0.005 {
		t.Fatalf("the dashboard shows %q for %s, app report --json says %.3f kg", shown, last, want.ByMonth[last].CO2Kg)
	}

	// The exports of a range of months, and a year's attestation, are the web app's files.
	h, _ = web()
	from, to := months[1], months[len(months)-2]
	b.Navigate("/?exports#/exports")
	for _, f := range []struct{ path, name string }{{"/exports/trips.csv", "coachco2-trips.csv"}, {"/exports/trips.geojson", "coachco2-trips.geojson"}} {
		form := `#screen form[action="` + f.path + `"]`
		b.WaitVisible(form + " button")
		b.SetValue(form+` input[name="from"]`, from)
		b.SetValue(form+` input[name="to"]`, to)
		b.Click(form + " button")
		name, got := next()
		wantBody, _ := webGet(t, h, f.path+"?"+url.Values{"from": {from}, "to": {to}}.Encode())
		whole, _ := webGet(t, h, f.path)
		if name != f.name || string(got) != wantBody {
			t.Fatalf("%s from %s to %s: the page's %s (%d bytes) is not the web app's (%d bytes)", f.path, from, to, name, len(got), len(wantBody))
		}
		if wantBody == whole {
			t.Fatalf("%s: the range %s..%s holds every trip: it checks no range", f.path, from, to)
		}
	}
	year := last[:4]
	pdfForm := `#screen form[action="/exports/attestation.pdf"]`
	b.SetValue(pdfForm+` input[name="year"]`, year)
	b.Click(pdfForm + " button")
	name, got := next()
	wantPDF, hdr := webGet(t, h, "/exports/attestation.pdf?year="+year)
	if hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the web app's attestation: %s", hdr.Get("Content-Type"))
	}
	if name != "attestation-fmd-"+year+".pdf" {
		t.Fatalf("the attestation downloads as %q", name)
	}
	gotPages, wantPages := pdfPages(t, got), pdfPages(t, []byte(wantPDF))
	if !slices.Equal(gotPages, wantPages) {
		t.Fatalf("the page's attestation (%d pages) is not the web app's (%d pages)", len(gotPages), len(wantPages))
	}
	if !strings.Contains(strings.Join(gotPages, "\n"), "Martin") {
		t.Fatalf("the attestation does not name the person:\n%.2000s", strings.Join(gotPages, "\n"))
	}
	b.Screenshot("cozy-exports")

	stayedInTheStack(t, b, stack, app)
}

// report is the engine's stored report, as JSON.
func report(t *testing.T, screens *vault.DB) string {
	t.Helper()
	var s engine.Screens
	if _, err := screens.Get(t.Context(), engine.ScreensID, &s); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s.Report)
	return string(b)
}
