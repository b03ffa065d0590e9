package webapp_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/trip"
)

// TestRecurringConfirmAndUndo: marking a trip recurring shows how many trips it will change and
// changes nothing until confirmed (form and API); once confirmed, the trip page shows the count
// and an undo that gives the similar trips their purpose back.
func TestRecurringConfirmAndUndo(t *testing.T) {
	srv, c := newApp(t)
	ctx := context.Background()
	list, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		t.Fatal(err)
	}
	purposes := func() map[string]trip.Purpose {
		t.Helper()
		all, _, err := c.ListTrips(ctx, coach.TripQuery{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]trip.Purpose{}
		for _, s := range all {
			m[s.ID] = s.Purpose
		}
		return m
	}
	before := purposes()
	sport, yes := trip.Sport, true
	edit := figures.Edit{Purpose: &sport, Recurring: &yes}
	var id string
	var preview []string
	for _, s := range list {
		if preview, err = c.PreviewEdit(ctx, s.ID, edit); err != nil {
			t.Fatal(err)
		} else if len(preview) > 0 {
			id = s.ID
			break
		}
	}
	if id == "" {
		t.Fatal("no sample trip has similar trips: the test data changed")
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"form": {"trip"}, "purpose": {"SPORT"}, "recurring": {"on"}, "title": {""}}
	resp, err := noFollow.PostForm(srv.URL+"/trips/"+id, form)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="confirm-recurring"`) ||
		!strings.Contains(body, strconv.Itoa(len(preview))+" trajets similaires") {
		t.Fatalf("first submit: %d, want the confirmation with %d trips", resp.StatusCode, len(preview))
	}
	if got := purposes(); got[id] != before[id] || got[preview[0]] != before[preview[0]] {
		t.Fatalf("the edit was saved before its confirmation")
	}
	// The API asks for the count too.
	resp, err = http.Post(srv.URL+"/api/trips/"+id, "application/json", strings.NewReader(`{"purpose":"SPORT","recurring":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != http.StatusConflict || len(gjson.Get(body, "would_propagate_to").Array()) != len(preview) {
		t.Fatalf("API without confirm: %d %s", resp.StatusCode, body)
	}
	form.Set("confirm", strconv.Itoa(len(preview)))
	if resp, err = noFollow.PostForm(srv.URL+"/trips/"+id, form); err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed submit: %d", resp.StatusCode)
	}
	for _, p := range preview {
		if got := purposes()[p]; got != trip.Sport {
			t.Errorf("trip %s: purpose %s after the confirmation, want SPORT", p, got)
		}
	}
	if _, page := get(t, srv.URL+"/trips/"+id); !strings.Contains(page, strconv.Itoa(len(preview))+" trajets similaires ont pris son motif") ||
		!strings.Contains(page, `id="undo-recurring"`) {
		t.Errorf("the trip page does not show the copies and their undo")
	}
	if resp, err = noFollow.PostForm(srv.URL+"/trips/"+id+"/recurring/undo", url.Values{}); err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("undo: %d", resp.StatusCode)
	}
	after := purposes()
	for _, p := range preview {
		if after[p] != before[p] {
			t.Errorf("trip %s: purpose %s after the undo, want %s", p, after[p], before[p])
		}
	}
	if after[id] != trip.Sport {
		t.Errorf("the undo changed the trip's own purpose: %s", after[id])
	}
}
