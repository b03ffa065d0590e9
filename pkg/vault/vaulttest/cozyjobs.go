package vaulttest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// The realtime events of pkg/realtime: what a write did to a document.
const (
	EventCreated = "CREATED"
	EventUpdated = "UPDATED"
	EventDeleted = "DELETED"
)

// Job is a service's job the stack's scheduler has pushed: the app's service to run with the
// app's token (worker/exec/service.go). The double runs no process: the test runs the job (for
// instance its Node.js file) when it takes it from Advance.
type Job struct {
	// App and Service name the installed app and its service (the manifest's "services" key).
	App, Service string
	// File is the service's file in the bundle ("/services/coach.js").
	File string
	// Token is the token the job runs with: the app's (a service has the app's permissions).
	Token string
	// Due is when, on the double's clock, the scheduler pushed it.
	Due time.Time
}

// serviceTrigger is the trigger model/app/webapp.go (diffServices) creates for an app's service
// at install: worker "service", the manifest's "trigger" split at its first space into type and
// arguments, and its "debounce".
type serviceTrigger struct {
	job      Job
	rules    []eventRule
	debounce time.Duration
	// due is when a debounced job is pushed; zero when no event waits.
	due time.Time
	// every is the period of a periodic trigger (@daily, @weekly), whose next job is due at
	// next; zero for an @event trigger.
	every time.Duration
	next  time.Time
}

// periods are the periodic triggers the double runs (model/job/trigger_cron.go: the stack draws
// the time of day, or takes it from the "between" arguments; the double takes the install's).
var periods = map[string]time.Duration{"@daily": 24 * time.Hour, "@weekly": 7 * 24 * time.Hour}

// eventRule is one argument of an @event trigger: a permission rule string
// (model/permission/rules.go, UnmarshalRuleString: "doctype:VERBS:values:selector"), matched as
// model/job/trigger_event.go's eventMatchRule does: the doctype, the verb (all when none or
// "ALL"), and the document id among the values when there are values (the double leaves out
// selectors other than the id).
type eventRule struct {
	doctype string
	verbs   []string
	values  []string
}

// parseEventRule is UnmarshalRuleString for an @event argument.
func parseEventRule(s string) (eventRule, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 4 || parts[0] == "" {
		return eventRule{}, fmt.Errorf("bad rule %q", s)
	}
	r := eventRule{doctype: parts[0]}
	if len(parts) > 1 && parts[1] != "" && parts[1] != "ALL" {
		r.verbs = strings.Split(parts[1], ",")
		for _, v := range r.verbs {
			if v != EventCreated && v != EventUpdated && v != EventDeleted {
				return eventRule{}, fmt.Errorf("bad verb %q in rule %q", v, s)
			}
		}
	}
	if len(parts) > 2 && parts[2] != "" {
		r.values = strings.Split(parts[2], ",")
	}
	if len(parts) > 3 && parts[3] != "" && parts[3] != "_id" {
		return eventRule{}, fmt.Errorf("rule %q: the double matches no selector but the id", s)
	}
	return r, nil
}

func (r eventRule) match(doctype, verb, id string) bool {
	return r.doctype == doctype && (r.verbs == nil || slices.Contains(r.verbs, verb)) &&
		(r.values == nil || slices.Contains(r.values, id))
}

// appService is model/app's Service: a service of a webapp's manifest.
type appService struct {
	Type     string `json:"type"`
	File     string `json:"file"`
	Debounce string `json:"debounce"`
	Trigger  string `json:"trigger"`
}

// addServiceTriggers creates the triggers of an installed app's services, as diffServices does
// (model/app/webapp.go). A service with another trigger than @event, @daily or @weekly fails
// the test.
func (s *CozyStack) addServiceTriggers(t testing.TB, slug, token string, services map[string]appService) {
	t.Helper()
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		svc := services[name]
		typ, args, _ := strings.Cut(strings.TrimSpace(svc.Trigger), " ")
		tr := &serviceTrigger{job: Job{App: slug, Service: name, File: svc.File, Token: token}}
		if every, ok := periods[typ]; ok {
			tr.every = every
			s.jobsMu.Lock()
			tr.next = s.now().Add(every)
			s.triggers = append(s.triggers, tr)
			s.jobsMu.Unlock()
			continue
		}
		if typ != "@event" {
			t.Fatalf("cozy stack double: app %s, service %s: trigger %q: the double runs @event, @daily and @weekly triggers only", slug, name, svc.Trigger)
		}
		// NewEventTrigger: the arguments are rules separated by spaces.
		for _, arg := range strings.Split(strings.TrimSpace(args), " ") {
			r, err := parseEventRule(arg)
			if err != nil {
				t.Fatalf("cozy stack double: app %s, service %s: %v", slug, name, err)
			}
			tr.rules = append(tr.rules, r)
		}
		if svc.Debounce != "" {
			d, err := time.ParseDuration(svc.Debounce)
			if err != nil {
				// memScheduler.schedule logs the error and schedules without a debounce.
				t.Logf("cozy stack double: app %s, service %s: invalid debounce %q: none", slug, name, svc.Debounce)
			}
			tr.debounce = d
		}
		s.jobsMu.Lock()
		s.triggers = append(s.triggers, tr)
		s.jobsMu.Unlock()
	}
}

// event is realtime.RTEvent as the scheduler sees it (model/job/mem_scheduler.go, schedule): a
// trigger without a debounce pushes a job at once; with one, the first event starts the wait and
// the events that follow within it join that job (keepOriginalRequest), which is pushed when
// the wait ends.
func (s *CozyStack) event(doctype, verb, id string) {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	for _, tr := range s.triggers {
		if tr.every != 0 || !slices.ContainsFunc(tr.rules, func(r eventRule) bool { return r.match(doctype, verb, id) }) {
			continue
		}
		switch {
		case tr.debounce == 0:
			j := tr.job
			j.Due = s.now()
			s.queue = append(s.queue, j)
		case tr.due.IsZero():
			tr.due = s.now().Add(tr.debounce)
		}
	}
}

// now is the double's clock: the time of its start, moved on by Advance only, so that a test
// of a debounce waits for nothing.
func (s *CozyStack) now() time.Time { return s.clockStart.Add(s.clock) }

// Advance moves the double's clock on by d and returns the jobs pushed until then, oldest
// first, taking them off the queue: the test runs them (the stack's workers would).
func (s *CozyStack) Advance(d time.Duration) []Job {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	s.clock += d
	now := s.now()
	for _, tr := range s.triggers {
		for tr.every != 0 && !tr.next.After(now) {
			j := tr.job
			j.Due = tr.next
			s.queue = append(s.queue, j)
			tr.next = tr.next.Add(tr.every)
		}
		if !tr.due.IsZero() && !tr.due.After(now) {
			j := tr.job
			j.Due = tr.due
			s.queue = append(s.queue, j)
			tr.due = time.Time{}
		}
	}
	slices.SortStableFunc(s.queue, func(a, b Job) int { return a.Due.Compare(b.Due) })
	jobs := s.queue
	s.queue = nil
	return jobs
}

// Waiting returns the jobs the scheduler will push because of events: those queued, and those
// whose debounce has not ended (with the time it ends). A periodic trigger's next job is not
// counted: it always waits.
func (s *CozyStack) Waiting() []Job {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	jobs := slices.Clone(s.queue)
	for _, tr := range s.triggers {
		if !tr.due.IsZero() {
			j := tr.job
			j.Due = tr.due
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// bulkEvents emits the events of a _bulk_docs answer as pkg/couchdb/proxy.go (ProxyBulkDocs)
// does, on a 201 only: for each document written ("ok", no error), CREATED when the request
// gave it no _rev, DELETED when it had _deleted, else UPDATED.
func (c *call) bulkEvents(status int, req []map[string]any, answer []byte) {
	if status != 201 {
		return
	}
	var results []struct {
		ID    string `json:"id"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(answer, &results) != nil {
		return
	}
	docs := map[string]map[string]any{}
	for _, d := range req {
		docs[str(d, "_id")] = d
	}
	for _, r := range results {
		d, ok := docs[r.ID]
		if r.Error != "" || !r.OK || !ok {
			continue
		}
		verb := EventUpdated
		if str(d, "_rev") == "" {
			verb = EventCreated
		} else if d["_deleted"] == true {
			verb = EventDeleted
		}
		c.s.event(c.doctype, verb, r.ID)
	}
}
