package webapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

func TestStudiesScreen(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2022, 6, 10, 12, 0, 0, 0, time.UTC)
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	coachtest.Fill(t, v, 300)
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	// No client: nothing can leave; the revocation's deletion request fails and stays pending.
	svc, err := sharing.New(ctx, v, c, sharing.Options{Now: func() time.Time { return now }, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := json.Marshal(map[string]any{
		"id": "mobility-test", "version": 1, "title": "Self-data and mobility", "institution": "Test university",
		"contact": "dpo@example.org", "purpose": map[string]string{"fr": "Objectif en français", "en": "Purpose in English"},
		"collector_url": "https://collector.example.org", "measures": []string{"co2_monthly_kg", "modal_share_monthly"},
		"period": map[string]string{"from": "2022-01", "to": "2022-03"}, "retention_months": 12, "k": 5,
		"profile_fields": []map[string]any{{"name": "age_band", "label": map[string]string{"fr": "Âge", "en": "Age band"}, "values": []string{"18-29", "30-44"}}},
	})
	if _, err := svc.AddStudy(ctx, desc); err != nil {
		t.Fatal(err)
	}
	changes := 0
	app, err := webapp.New(c, webapp.Options{Locale: "en", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	app.EnableStudies(svc, func(context.Context) error { changes++; return nil })
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return html.UnescapeString(string(b))
	}
	post := func(path string, form url.Values) string {
		t.Helper()
		resp, err := client.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	page := get("/studies")
	for _, want := range []string{"Self-data and mobility", "Purpose in English", "Test university", `name="measures" value="co2_monthly_kg"`,
		`name="csrf_token"`, `"pseudonym":"` + sharing.PreviewPseudonym + `"`, `"period":"2022-03"`, "Nothing was ever sent.", `href="/studies"`} {
		if !strings.Contains(page, want) {
			t.Errorf("studies page lacks %q", want)
		}
	}
	// Preview of one measure with a profile answer.
	loc := post("/studies/mobility-test/consent", url.Values{"action": {"preview"}, "measures": {"modal_share_monthly"}, "profile_age_band": {"30-44"}})
	page = get(loc[:strings.Index(loc, "#")])
	if !strings.Contains(page, `"measure":"modal_share_monthly"`) || strings.Contains(page, `"measure":"co2_monthly_kg"`) ||
		!strings.Contains(page, `"profile":{"age_band":"30-44"}`) {
		t.Errorf("preview of modal shares:\n%s", page)
	}
	// Grant.
	if loc := post("/studies/mobility-test/consent", url.Values{"action": {"grant"}, "measures": {"co2_monthly_kg"}}); !strings.Contains(loc, "saved=granted") {
		t.Fatalf("grant redirects to %s", loc)
	}
	consents, _ := svc.Consents(ctx)
	if len(consents) != 1 || changes != 1 {
		t.Fatalf("consents %+v, changes %d", consents, changes)
	}
	page = get("/studies")
	if !strings.Contains(page, consents[0].Pseudonym) || !strings.Contains(page, "You take part") {
		t.Errorf("page after grant lacks the consent")
	}
	// Revoke: revoked at once; the deletion request (no client here) is pending.
	if loc := post("/studies/mobility-test/revoke", url.Values{}); !strings.Contains(loc, "saved=revokedPending") {
		t.Fatalf("revoke redirects to %s", loc)
	}
	active, _ := svc.Active(ctx, now)
	if len(active) != 0 || changes != 2 {
		t.Fatalf("active after revoke: %+v", active)
	}
	if page := get("/studies?saved=revokedPending"); !strings.Contains(page, "the deletion request failed") {
		t.Errorf("page after revoke lacks the pending deletion")
	}
}

// TestAddStudyForm: with EnableAddStudy, the Studies screen offers a form that adds a study by
// its id, its descriptor fetched (here from a server that publishes it, as a collector's GET
// /studies/{id} does); without it, the form is absent and the route refuses.
func TestAddStudyForm(t *testing.T) {
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sharing.New(ctx, v, c, sharing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := json.Marshal(map[string]any{
		"id": "mobility-test", "version": 1, "title": "Self-data and mobility", "institution": "Test university",
		"contact": "dpo@example.org", "purpose": map[string]string{"fr": "Objectif", "en": "Purpose"},
		"collector_url": "https://collector.example.org", "measures": []string{"co2_monthly_kg"},
		"period": map[string]string{"from": "2022-01", "to": "2022-03"}, "retention_months": 12, "k": 5,
	})
	publisher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/studies/mobility-test" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(desc)
	}))
	t.Cleanup(publisher.Close)
	fetch := func(ctx context.Context, id string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, publisher.URL+"/studies/"+url.PathEscape(id), nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, errors.New(resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	for _, enabled := range []bool{false, true} {
		app, err := webapp.New(c, webapp.Options{Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		app.EnableStudies(svc, nil)
		if enabled {
			app.EnableAddStudy(fetch)
		}
		h := app.Handler()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/studies", nil))
		if has := strings.Contains(rec.Body.String(), `action="/studies/add"`); has != enabled {
			t.Fatalf("enabled %v: the form shown: %v", enabled, has)
		}
		post := func(id string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/studies/add", strings.NewReader(url.Values{"study": {id}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		if !enabled {
			if rec := post("mobility-test"); rec.Code != http.StatusBadRequest {
				t.Fatalf("adding a study without EnableAddStudy: %d", rec.Code)
			}
			if all, _ := svc.Studies(ctx); len(all) != 0 {
				t.Fatalf("a study was added: %+v", all)
			}
			continue
		}
		if rec := post("Not An Id/.."); rec.Code != http.StatusBadRequest {
			t.Fatalf("a malformed id: %d", rec.Code)
		}
		if rec := post("other-study"); rec.Code != http.StatusBadRequest {
			t.Fatalf("a study the publisher does not have: %d", rec.Code)
		}
		rec = post("mobility-test")
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "saved=added") {
			t.Fatalf("adding the study: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if all, _ := svc.Studies(ctx); len(all) != 1 || all[0].Descriptor.ID != "mobility-test" {
			t.Fatalf("the studies: %+v", all)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/studies?saved=added", nil))
		if page := html.UnescapeString(rec.Body.String()); !strings.Contains(page, "Study added") || !strings.Contains(page, "Self-data and mobility") {
			t.Fatalf("the screen after adding:\n%s", page)
		}
	}
}
