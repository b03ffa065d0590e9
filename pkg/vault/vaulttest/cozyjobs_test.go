package vaulttest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// These tests hold the double's job system to cozy-stack's source: model/app/webapp.go
// (diffServices: a trigger per service), model/job/trigger_event.go (eventMatchRule),
// model/job/mem_scheduler.go (schedule: the debounce), pkg/couchdb/couchdb.go and
// pkg/couchdb/proxy.go (ProxyBulkDocs: the events of each write).

// servicesManifest has three services: one debounced on new and changed trips, one at once on
// deleted trips, one on a single settings document.
const servicesManifest = `{"name": "Demo", "editor": "Us", "icon": "icon.svg",
	"permissions": {"trips": {"type": "io.cozy.timeseries.geojson", "verbs": ["GET"]}},
	"services": {
		"figures": {"type": "node", "file": "/services/figures.js", "trigger": "@event io.cozy.timeseries.geojson:CREATED,UPDATED", "debounce": "1m"},
		"deleted": {"type": "node", "file": "/services/deleted.js", "trigger": "@event io.cozy.timeseries.geojson:DELETED"},
		"mine":    {"type": "node", "file": "/services/mine.js", "trigger": "@event io.cozy.coachco2.settings:ALL:mine"}}}`

// services lists the jobs' services, in order.
func services(jobs []vaulttest.Job) string {
	var names []string
	for _, j := range jobs {
		names = append(names, j.Service)
	}
	return strings.Join(names, " ")
}

// TestCozyStackServiceTriggers: installing an app creates its services' @event triggers; a
// matching write pushes a job with the app's token; a debounced trigger pushes one job when
// its wait (started by the first event, not moved by the others) ends; the events of a
// _bulk_docs are those of each document written, and a refused one has none.
func TestCozyStackServiceTriggers(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	app := stack.InstallApp(t, "demo", bundle(t, servicesManifest, map[string]string{"index.html": "<p>hi</p>"}))
	if w := stack.Waiting(); len(w) != 0 {
		t.Fatalf("jobs before any write: %s", services(w))
	}
	home := stack.HomeToken
	created := request(t, stack, home, http.MethodPost, "/data/"+trips+"/", `{"a": 1}`).want(t, "create", http.StatusCreated, "")
	id, _ := created.body["id"].(string)
	rev, _ := created.body["rev"].(string)
	if w := stack.Waiting(); services(w) != "figures" {
		t.Fatalf("waiting after a trip's creation: %q, want the figures service", services(w))
	}
	if jobs := stack.Advance(30 * time.Second); len(jobs) != 0 {
		t.Fatalf("jobs 30 s into the debounce: %s", services(jobs))
	}
	// Another write within the wait joins the same job, and does not move its end.
	updated := request(t, stack, home, http.MethodPut, "/data/"+trips+"/"+id, fmt.Sprintf(`{"_id": %q, "_rev": %q, "a": 2}`, id, rev)).want(t, "update", http.StatusOK, "")
	rev, _ = updated.body["rev"].(string)
	if jobs := stack.Advance(29 * time.Second); len(jobs) != 0 {
		t.Fatalf("jobs 59 s after the first event: %s", services(jobs))
	}
	jobs := stack.Advance(time.Second)
	if services(jobs) != "figures" || jobs[0].Token != app.Token || jobs[0].File != "/services/figures.js" || jobs[0].App != "demo" {
		t.Fatalf("a minute after the first event: %+v, want the figures service with the app's token", jobs)
	}
	if w := stack.Waiting(); len(w) != 0 {
		t.Fatalf("still waiting after the job: %s", services(w))
	}

	// A deletion pushes its job at once; the debounced trigger does not take it.
	request(t, stack, home, http.MethodDelete, "/data/"+trips+"/"+id+"?rev="+rev, "").want(t, "delete", http.StatusOK, "")
	if jobs := stack.Advance(0); services(jobs) != "deleted" {
		t.Fatalf("after a deletion: %q, want the deleted service at once", services(jobs))
	}

	// A rule with values matches those documents only.
	request(t, stack, home, http.MethodPut, "/data/io.cozy.coachco2.settings/other", `{"b": 1}`).want(t, "another settings document", http.StatusOK, "")
	if w := stack.Waiting(); len(w) != 0 {
		t.Fatalf("a document the rule does not name: %s", services(w))
	}
	request(t, stack, home, http.MethodPut, "/data/io.cozy.coachco2.settings/mine", `{"b": 1}`).want(t, "the named settings document", http.StatusOK, "")
	if jobs := stack.Advance(0); services(jobs) != "mine" {
		t.Fatalf("the document the rule names: %q", services(jobs))
	}

	// _bulk_docs: each document written has its event (a new one CREATED); a conflict has none.
	request(t, stack, home, http.MethodPost, "/data/"+trips+"/_bulk_docs", `{"docs": [{"_id": "b1"}, {"_id": "b2"}]}`).want(t, "bulk", http.StatusCreated, "")
	if w := stack.Waiting(); services(w) != "figures" {
		t.Fatalf("after a bulk write: %q", services(w))
	}
	stack.Advance(time.Minute)
	request(t, stack, home, http.MethodPost, "/data/"+trips+"/_bulk_docs", `{"docs": [{"_id": "b1"}]}`).want(t, "bulk conflict", http.StatusCreated, "")
	if w := stack.Waiting(); len(w) != 0 {
		t.Fatalf("a refused document pushed %s", services(w))
	}
}

// TestCozyStackPeriodicTriggers: a @daily service is pushed once a day of the double's clock
// (events do not push it); a trigger the double does not run fails the test that installs it,
// rather than never running its service.
func TestCozyStackPeriodicTriggers(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	manifest := `{"name": "Demo", "services": {"daily": {"type": "node", "file": "/s.js", "trigger": "@daily"}}}`
	stack.InstallApp(t, "daily", bundle(t, manifest, map[string]string{"index.html": ""}))
	request(t, stack, stack.HomeToken, http.MethodPost, "/data/"+trips+"/", `{"a": 1}`).want(t, "create", http.StatusCreated, "")
	if jobs := stack.Advance(23 * time.Hour); len(jobs) != 0 {
		t.Fatalf("a @daily service within its first day: %s", services(jobs))
	}
	if jobs := stack.Advance(time.Hour); services(jobs) != "daily" {
		t.Fatalf("a day after the install: %q", services(jobs))
	}
	if jobs := stack.Advance(48 * time.Hour); services(jobs) != "daily daily" {
		t.Fatalf("two days later: %q, want two jobs", services(jobs))
	}

	manifest = `{"name": "Demo", "services": {"monthly": {"type": "node", "file": "/s.js", "trigger": "@monthly"}}}`
	dir := bundle(t, manifest, map[string]string{"index.html": ""})
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		stack.InstallApp(ft, "demo", dir)
	}()
	if !strings.Contains(ft.msg, "the double runs @event, @daily and @weekly triggers only") {
		t.Fatalf("installing an app with a @monthly service: %q", ft.msg)
	}
}

// fatalRecorder records a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}

func (f *fatalRecorder) Helper() {}
