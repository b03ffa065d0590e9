package webapp_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/coach"
)

// TestTitleShownEverywhere: a title the person sets shows on the trip's heading, in the trips
// list (page and API), in the edit's answer and in the CSV export's title column, instead of the
// automatic title.
func TestTitleShownEverywhere(t *testing.T) {
	srv, c := newApp(t)
	list, _, err := c.ListTrips(context.Background(), coach.TripQuery{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	id, auto := list[0].ID, list[0].Title
	const title = "Visite chez Mamie"
	resp, err := http.Post(srv.URL+"/api/trips/"+id, "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || gjson.Get(body, "trip.summary.title").String() != title {
		t.Fatalf("edit: %d %s", resp.StatusCode, body)
	}
	if _, page := get(t, srv.URL+"/trips/"+id); !strings.Contains(page, "<h1>"+title+"</h1>") {
		t.Errorf("the trip's heading is not the title set")
	}
	if _, page := get(t, srv.URL+"/trips"); !strings.Contains(page, ">"+title+"</a>") {
		t.Errorf("the trips list does not show the title set")
	}
	if _, js := get(t, srv.URL+"/api/trips"); gjson.Get(js, "trips.0.title").String() != title {
		t.Errorf("/api/trips: title %q, want %q", gjson.Get(js, "trips.0.title").String(), title)
	}
	_, raw := get(t, srv.URL+"/exports/trips.csv?from=2016-01&to=2016-12")
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV: %v", err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "Trip_Title" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("the CSV has no title column: %v", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		switch {
		case r[0] == id && r[col] != title:
			t.Errorf("CSV: trip %s titled %q, want %q", id, r[col], title)
		case r[0] == id:
			found = true
		case r[col] == "":
			t.Errorf("CSV: trip %s has no title", r[0])
		}
	}
	if !found {
		t.Errorf("CSV: trip %s missing", id)
	}
	_, gj := get(t, srv.URL+"/exports/trips.geojson?from=2016-01&to=2016-12")
	titled := 0
	for _, f := range gjson.Get(gj, "features").Array() {
		if f.Get("properties.trip_id").String() == id {
			if got := f.Get("properties.trip_title").String(); got != title {
				t.Errorf("GeoJSON: title %q, want %q", got, title)
			}
			titled++
		}
	}
	if titled == 0 {
		t.Errorf("GeoJSON: trip %s missing", id)
	}
	// Clearing the title brings the automatic one back.
	resp, err = http.Post(srv.URL+"/api/trips/"+id, "application/json", strings.NewReader(`{"title":""}`))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); gjson.Get(body, "trip.summary.title").String() != auto {
		t.Errorf("after clearing: %s, want %q", gjson.Get(body, "trip.summary.title"), auto)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, resp.Body); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}
