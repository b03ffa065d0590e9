package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// TestStatusShowsTripsToRetry: a trip the server announced but left out of its day's answer
// makes the sync exit 6, and `status` lists it as a trip to retry until a later sync gets it.
func TestStatusShowsTripsToRetry(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var data devserver.UserData
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		data.Trips = append(data.Trips, tr.AppendGeoJSON(nil))
		return true
	})
	srv, err := devserver.New(devserver.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetUser("tok-retry", &data); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	srv.Withhold(gjson.GetBytes(data.Trips[1], "id").String())
	common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "bob"}

	out, code := run(t, append([]string{"sync", "--server", hs.URL, "--token", "tok-retry", "--json"}, common...)...)
	if code != exitPartial || gjson.Get(out, "to_retry").Int() != 1 {
		t.Fatalf("sync with a trip left out: exit %d, %s", code, out)
	}
	out, code = run(t, append([]string{"status", "--json"}, common...)...)
	var rows []struct {
		ToRetry []json.RawMessage `json:"to_retry"`
		LastRun struct {
			ToRetry int `json:"toRetry"`
		} `json:"last_run"`
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 || len(rows[0].ToRetry) != 1 || rows[0].LastRun.ToRetry != 1 {
		t.Fatalf("status: exit %d, %s (%v)", code, out, err)
	}
	out, _ = run(t, append([]string{"status"}, common...)...)
	if !strings.Contains(out, "trip to retry") {
		t.Fatalf("status does not list the trip to retry:\n%s", out)
	}

	srv.Withhold()
	out, code = run(t, append([]string{"sync", "--json"}, common...)...)
	if code != exitOK || gjson.Get(out, "created").Int() != 1 || gjson.Get(out, "to_retry").Int() != 0 {
		t.Fatalf("sync once the server sends the trip: exit %d, %s", code, out)
	}
	out, _ = run(t, append([]string{"status", "--json"}, common...)...)
	if n := len(gjson.Get(out, "0.to_retry").Array()); n != 0 {
		t.Fatalf("status still lists %d trips to retry: %s", n, out)
	}
}
