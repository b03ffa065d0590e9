package webapp_test

import (
	"context"
	"image/color"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/basemap"
	"github.com/coachco2/coachco2/pkg/basemap/basemaptest"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// openBaseMap is the web app's reader of offline maps, as `app serve` gives it.
func openBaseMap(ctx context.Context, path string) (webapp.BaseMap, error) {
	m, err := basemap.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// tileOf returns the web-map tile of a point at zoom z.
func tileOf(lat, lon float64, z int) (x, y int) {
	n := math.Exp2(float64(z))
	r := lat * math.Pi / 180
	return int((lon + 180) / 360 * n), int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
}

// areaMap writes an offline map of the 5×5 tiles at zoom 10 around a point.
func areaMap(t *testing.T, lat, lon float64) string {
	t.Helper()
	x, y := tileOf(lat, lon, 10)
	tiles := map[basemaptest.Tile][]byte{}
	for dx := -2; dx <= 2; dx++ {
		for dy := -2; dy <= 2; dy++ {
			c := color.RGBA{uint8(200 + 10*dx), uint8(220 + 10*dy), 200, 255}
			tiles[basemaptest.Tile{Z: 10, X: x + dx, Y: y + dy}] = basemaptest.PNG(t, c)
		}
	}
	return basemaptest.Write(t, "area.mbtiles", tiles, nil)
}

// TestOfflineBaseMap: with an offline map named in the settings (checked when saved), a trip's
// route is drawn over its tiles, served by the app itself at /tiles/ with the OpenStreetMap
// attribution; without one, the blank panel stays.
func TestOfflineBaseMap(t *testing.T) {
	srv, c := newApp(t)
	list, _, err := c.ListTrips(context.Background(), coach.TripQuery{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	_, a, err := c.Trip(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	_, page := get(t, srv.URL+"/trips/"+list[0].ID)
	if strings.Contains(page, "<image") || strings.Contains(page, "OpenStreetMap") {
		t.Fatal("the default map is not the blank panel")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	save := func(baseMap string) int {
		t.Helper()
		resp, err := noFollow.PostForm(srv.URL+"/settings", url.Values{"target": {"100"}, "baseMap": {baseMap}})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if _, err := c.WaitRecompute(context.Background()); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := save("/nowhere/map.mbtiles"); code != http.StatusBadRequest || c.Settings().BaseMap != "" {
		t.Fatalf("a missing map file: %d, saved %q", code, c.Settings().BaseMap)
	}
	p := a.Coordinates.StartPoint
	path := areaMap(t, p.Lat, p.Lon)
	if code := save(path); code != http.StatusSeeOther || c.Settings().BaseMap != path {
		t.Fatalf("saving the map: %d, saved %q", code, c.Settings().BaseMap)
	}
	_, page = get(t, srv.URL+"/trips/"+list[0].ID)
	hrefs := regexp.MustCompile(`<image href="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(hrefs) == 0 || !strings.Contains(page, "© OpenStreetMap contributors") {
		t.Fatalf("the route is not drawn over the offline map with its attribution")
	}
	served := 0
	for _, h := range hrefs {
		if !strings.HasPrefix(h[1], "/tiles/10/") {
			t.Fatalf("a tile from %s, want the app's /tiles/ at the map's deepest zoom", h[1])
		}
		resp, err := http.Get(srv.URL + h[1])
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == "image/png" && strings.HasPrefix(body, "\x89PNG") {
			served++
		}
	}
	x, y := tileOf(p.Lat, p.Lon, 10)
	if served == 0 || !strings.Contains(page, "/tiles/10/"+itoa(x)+"/"+itoa(y)+`"`) {
		t.Errorf("%d of %d tiles served; want the start's tile 10/%d/%d among them", served, len(hrefs), x, y)
	}
	if code, _ := get(t, srv.URL+"/tiles/10/0/0"); code != http.StatusNotFound {
		t.Errorf("a tile the map lacks: %d, want 404", code)
	}
	// Back to the blank panel.
	if code := save(""); code != http.StatusSeeOther {
		t.Fatalf("clearing the map: %d", code)
	}
	if _, page = get(t, srv.URL+"/trips/"+list[0].ID); strings.Contains(page, "<image") {
		t.Error("the map stays after clearing the setting")
	}
	if code, _ := get(t, srv.URL+"/tiles/10/"+itoa(x)+"/"+itoa(y)); code != http.StatusNotFound {
		t.Errorf("tiles still served without a map: %d", code)
	}
}

// TestNoOfflineMapsWithoutAReader: an app given no reader of offline maps (the Cozy engine)
// refuses a map file in the settings, and serves no tiles.
func TestNoOfflineMapsWithoutAReader(t *testing.T) {
	srv, c := newAppWith(t, webapp.Options{Locale: "en"})
	x, y := tileOf(46.16, -1.15, 10)
	path := areaMap(t, 46.16, -1.15)
	resp, err := http.PostForm(srv.URL+"/settings", url.Values{"target": {"100"}, "baseMap": {path}})
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusBadRequest || c.Settings().BaseMap != "" || !strings.Contains(page, "not available") {
		t.Fatalf("a map file without a reader: %d, saved %q", resp.StatusCode, c.Settings().BaseMap)
	}
	if code, _ := get(t, srv.URL+"/tiles/10/"+itoa(x)+"/"+itoa(y)); code != http.StatusNotFound {
		t.Errorf("a tile without a reader: %d, want 404", code)
	}
}
