package webapp_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/co2"
)

// TestSettingsAnswerBeforeTheRecompute: saving a new factor set redirects at once; the recompute
// runs in the background, its progress is served at /api/recompute and ends with every trip
// recomputed, the reports then computed with the new set.
func TestSettingsAnswerBeforeTheRecompute(t *testing.T) {
	srv, c := newApp(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(srv.URL+"/settings", url.Values{"factorSet": {co2.ImpactCO2SetID}, "target": {"100"}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if _, err := c.WaitRecompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, js := get(t, srv.URL+"/api/recompute")
	if gjson.Get(js, "running").Bool() || gjson.Get(js, "total").Int() != 76 || gjson.Get(js, "done").Int() != 76 {
		t.Errorf("progress at the end: %s, want 76 of 76", js)
	}
	if _, js = get(t, srv.URL+"/api/analysis?period=2016"); gjson.Get(js, "report.factor_set.id").String() != co2.ImpactCO2SetID {
		t.Errorf("the report's factor set: %s", gjson.Get(js, "report.factor_set").Raw)
	}
}
