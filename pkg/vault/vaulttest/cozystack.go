package vaulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
)

// CozyStack is a test double of a Cozy instance's data API, the only part of the stack a konnector
// talks to. The stack itself (Go, AGPL, with its own CouchDB and job system) cannot run here, so the
// double implements its documented contract (cozy-conventions.md, "Data API") over a real
// CouchDB-protocol server:
//   - every request needs "Authorization: Bearer <token>" with the job's token, else 401;
//   - /data/<doctype>/... is the instance's database for that doctype, which the stack names by
//     Cozy's rule and creates on first use;
//   - a doctype or verb the konnector's manifest does not grant is refused with 403;
//   - POST /data/<doctype>/ creates a document whose body must hold no _id, and answers
//     {id, type, ok, rev, data}; _find refuses a limit above 1000.
//
// Everything else is passed to CouchDB as the stack does.
type CozyStack struct {
	// URL is the instance URL, with a trailing slash, as COZY_URL gives it.
	URL string
	// Token is the bearer token, as COZY_CREDENTIALS gives it.
	Token string

	instance string
	couch    *url.URL
	perms    map[string][]string // doctype -> verbs
	mu       sync.Mutex
	created  map[string]bool
	// Requests counts requests per "VERB doctype", for tests.
	Requests map[string]int
	// Down makes the stack answer 503 to everything, as an instance being restarted does.
	Down atomic.Bool
}

// NewCozyStack starts a stack double for the instance over the CouchDB at couchURL, granting the
// permissions of a manifest (its "permissions" member). It stops when the test ends.
func NewCozyStack(t testing.TB, couchURL, instance string, manifest []byte) *CozyStack {
	t.Helper()
	var m struct {
		Permissions map[string]struct {
			Type  string   `json:"type"`
			Verbs []string `json:"verbs"`
		} `json:"permissions"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatalf("cozy stack double: manifest: %v", err)
	}
	couch, err := url.Parse(couchURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &CozyStack{Token: "job-token-" + instance, instance: instance, couch: couch,
		perms: map[string][]string{}, created: map[string]bool{}, Requests: map[string]int{}}
	for _, p := range m.Permissions {
		verbs := p.Verbs
		if len(verbs) == 0 || slices.Contains(verbs, "ALL") {
			verbs = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
		}
		s.perms[p.Type] = verbs
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

func (s *CozyStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Down.Load() {
		couchError(w, http.StatusServiceUnavailable, "service_unavailable", "the instance is down")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		couchError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid token")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/data/")
	if !ok {
		couchError(w, http.StatusNotFound, "not_found", "only /data/ is served by this double")
		return
	}
	doctype, tail, _ := strings.Cut(rest, "/")
	doctype, _ = url.PathUnescape(doctype)
	if err := vault.ValidateDoctype(doctype); err != nil {
		couchError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	verb := r.Method
	if verb == http.MethodHead {
		verb = http.MethodGet
	}
	// Queries are reads, whatever their HTTP verb.
	if strings.HasPrefix(tail, "_find") || strings.HasPrefix(tail, "_all_docs") || strings.HasPrefix(tail, "_index") {
		verb = http.MethodGet
	}
	if !slices.Contains(s.perms[doctype], verb) {
		couchError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("no permission to %s %s", verb, doctype))
		return
	}
	s.mu.Lock()
	s.Requests[r.Method+" "+doctype]++
	s.mu.Unlock()
	dbName, err := vault.DBName(s.instance, doctype)
	if err != nil {
		couchError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err := s.ensureDB(dbName); err != nil {
		couchError(w, http.StatusBadGateway, "bad_gateway", err.Error())
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodPost && tail == "":
		if v := struct {
			ID string `json:"_id"`
		}{}; json.Unmarshal(body, &v) == nil && v.ID != "" {
			couchError(w, http.StatusBadRequest, "bad_request", "the document must not have an _id: use PUT /data/:doctype/:id")
			return
		}
	case strings.HasPrefix(tail, "_find"):
		var q struct {
			Limit *int `json:"limit"`
		}
		if json.Unmarshal(body, &q) == nil && q.Limit != nil && *q.Limit > 1000 {
			couchError(w, http.StatusBadRequest, "bad_request", "limit must be at most 1000")
			return
		}
	}
	target := s.dbURL(dbName, tail)
	target.RawQuery = r.URL.RawQuery
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &target
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
			if u := s.couch.User; u != nil {
				p, _ := u.Password()
				pr.Out.SetBasicAuth(u.Username(), p)
			}
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.ContentLength = int64(len(body))
		},
	}
	if r.Method == http.MethodPost && tail == "" {
		proxy.ModifyResponse = func(resp *http.Response) error { return createdAnswer(resp, doctype, body) }
	}
	proxy.ServeHTTP(w, r)
}

// createdAnswer turns CouchDB's {ok, id, rev} into the stack's {ok, id, rev, type, data}.
func createdAnswer(resp *http.Response, doctype string, sent []byte) error {
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var out map[string]any
	if resp.StatusCode < 300 && json.Unmarshal(raw, &out) == nil {
		var data map[string]any
		_ = json.Unmarshal(sent, &data)
		if data != nil {
			data["_id"], data["_rev"] = out["id"], out["rev"]
		}
		out["type"], out["data"] = doctype, data
		raw, _ = json.Marshal(out)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	resp.Header.Set("Content-Length", fmt.Sprint(len(raw)))
	return nil
}

func (s *CozyStack) ensureDB(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created[name] {
		return nil
	}
	u := s.dbURL(name, "")
	req, _ := http.NewRequest(http.MethodPut, u.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusPreconditionFailed {
		return fmt.Errorf("create database %s: %s", name, resp.Status)
	}
	s.created[name] = true
	return nil
}

// dbURL is the CouchDB URL of a database (name unescaped) and an escaped path below it.
func (s *CozyStack) dbURL(name, escapedTail string) url.URL {
	u := *s.couch
	u.RawPath = strings.TrimSuffix(s.couch.EscapedPath(), "/") + "/" + vault.EscapeDBName(name)
	if escapedTail != "" {
		u.RawPath += "/" + escapedTail
	}
	u.Path, _ = url.PathUnescape(u.RawPath)
	return u
}

func couchError(w http.ResponseWriter, status int, name, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": name, "reason": reason})
}
