package vaulttest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// These tests hold the Cozy stack double to the stack's source, rule by rule, so that a double
// laxer than the stack cannot hide a bug of the konnector again. Each names the cozy/cozy-stack
// file the rule comes from.

const (
	trips    = "io.cozy.timeseries.geojson"
	accounts = "io.cozy.accounts"
)

// konnectorManifest grants what the project's konnector asks for.
const konnectorManifest = `{"permissions": {
	"accounts": {"type": "io.cozy.accounts", "verbs": ["GET", "PUT"]},
	"trips": {"type": "io.cozy.timeseries.geojson", "verbs": ["GET", "POST", "PUT"]}}}`

// answer is the stack's answer to one request.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// errorText is the answer's "error" member.
func (a answer) errorText() string { s, _ := a.body["error"].(string); return s }

// request sends a request to the stack with a token ("" for none).
func request(t *testing.T, stack *vaulttest.CozyStack, token, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, stack.URL+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// want fails the test unless the answer has the status (and, when given, an "error" member
// holding errText).
func (a answer) want(t *testing.T, what string, status int, errText string) answer {
	t.Helper()
	if a.status != status || errText != "" && !strings.Contains(a.errorText(), errText) {
		t.Fatalf("%s: %d %s, want %d with error %q", what, a.status, a.raw, status, errText)
	}
	return a
}

func newStack(t *testing.T, manifest string) *vaulttest.CozyStack {
	t.Helper()
	return vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(manifest))
}

// rawDoc reads a document in CouchDB itself, under the stack.
func rawDoc(t *testing.T, instance, doctype, id string) map[string]any {
	t.Helper()
	name, err := vault.DBName(instance, doctype)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	do(t, http.MethodGet, strings.TrimSuffix(couch.URL(t), "/")+"/"+vault.EscapeDBName(name)+"/"+url.PathEscape(id), "", &doc)
	return doc
}

// TestCozyStackHasNoIndexListing: web/data/data.go routes only POST /data/:doctype/_index; a GET
// falls through to "get the document _index", which pkg/couchdb/couchdb.go (validateDocID)
// refuses with 400 bad_id, whatever the token; there is no DELETE of an index.
func TestCozyStackHasNoIndexListing(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	def := `{"index": {"fields": ["startDate"]}, "name": "by-startDate", "ddoc": "by-startDate"}`
	first := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_index", def).want(t, "define an index", http.StatusOK, "")
	again := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_index", def).want(t, "define it again", http.StatusOK, "")
	if first.body["result"] != "created" || again.body["result"] != "exists" {
		t.Fatalf("POST _index twice: %v then %v, want created then exists", first.body, again.body)
	}
	for _, token := range []string{stack.Token, stack.HomeToken} {
		request(t, stack, token, http.MethodGet, "data/"+trips+"/_index", "").want(t, "GET _index", http.StatusBadRequest, "bad_id")
	}
	request(t, stack, stack.Token, http.MethodDelete, "data/"+trips+"/_index/_design%2Fby-startDate/json/by-startDate", "").
		want(t, "DELETE an index", http.StatusNotFound, "")
	request(t, stack, stack.Token, http.MethodGet, "data/"+trips+"/_find", "").want(t, "GET _find", http.StatusBadRequest, "bad_id")
}

// TestCozyStackPutNeedsIDAndRevOrNeither: web/data/data.go, UpdateDoc: a PUT body holds both _id
// and _rev (an update, PUT permission) or neither (createNamedDoc: a create with the URL's id,
// POST permission); anything else is 400, as is an _id other than the URL's.
func TestCozyStackPutNeedsIDAndRevOrNeither(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	path := "data/" + trips + "/trip-1"
	request(t, stack, stack.Token, http.MethodPut, path, `{"_id": "trip-1", "km": 1}`).
		want(t, "PUT with _id and no _rev", http.StatusBadRequest, "either provide an _id and _rev")
	request(t, stack, stack.Token, http.MethodPut, path, `{"_rev": "1-abc", "km": 1}`).
		want(t, "PUT with _rev and no _id", http.StatusBadRequest, "either provide an _id and _rev")
	created := request(t, stack, stack.Token, http.MethodPut, path, `{"km": 1}`).want(t, "PUT with neither", http.StatusOK, "")
	rev, _ := created.body["rev"].(string)
	if created.body["id"] != "trip-1" || rev == "" || created.body["type"] != trips {
		t.Fatalf("create with a fixed id: %s, want {ok, id, rev, type, data}", created.raw)
	}
	request(t, stack, stack.Token, http.MethodPut, path, `{"km": 1}`).want(t, "create again", http.StatusConflict, "conflict")
	request(t, stack, stack.Token, http.MethodPut, path, `{"_id": "trip-2", "_rev": "`+rev+`", "km": 2}`).
		want(t, "PUT with another _id", http.StatusBadRequest, "doesnt match url")
	request(t, stack, stack.Token, http.MethodPut, path, `{"_id": "trip-1", "_rev": "`+rev+`", "km": 2, "_type": "`+trips+`"}`).
		want(t, "update (with the _type a GET gave)", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodPut, path, `{"_id": "trip-1", "_rev": "`+rev+`", "km": 3}`).
		want(t, "update with a stale _rev", http.StatusConflict, "conflict")

	putOnly := newStack(t, `{"permissions": {"t": {"type": "`+trips+`", "verbs": ["GET", "PUT"]}}}`)
	request(t, putOnly, putOnly.Token, http.MethodPut, path, `{"km": 1}`).
		want(t, "create with a fixed id without POST", http.StatusForbidden, "code=403")
}

// TestCozyStackPostRefusesAnID: web/data/data.go, createDoc, and pkg/couchdb/couchdb.go,
// CreateDoc: POST /data/:doctype/ makes the id (an _id is 400 defined_id) and answers 201
// {ok, id, rev, type, data}; the body goes to CouchDB as decoded, so "_type" or any other
// member starting with "_" is refused there.
func TestCozyStackPostRefusesAnID(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"_id": "chosen", "km": 1}`).
		want(t, "POST with an _id", http.StatusBadRequest, "defined_id")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"_type": "`+trips+`", "km": 1}`).
		want(t, "POST with _type", http.StatusBadRequest, "doc_validation")
	a := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 1}`).want(t, "POST", http.StatusCreated, "")
	data, _ := a.body["data"].(map[string]any)
	if a.body["ok"] != true || a.body["id"] == "" || a.body["rev"] == "" || a.body["type"] != trips || data["km"] != 1.0 || data["_type"] != trips {
		t.Fatalf("POST answer %s, want {ok, id, rev, type, data}", a.raw)
	}
	got := request(t, stack, stack.Token, http.MethodGet, "data/"+trips+"/"+a.body["id"].(string), "").want(t, "GET", http.StatusOK, "")
	if got.body["_type"] != trips {
		t.Fatalf("GET answer %s: the stack adds _type", got.raw)
	}
}

// TestCozyStackDelete: web/data/data.go, DeleteDoc: a revision is needed (If-Match or ?rev), and
// the answer is {ok, id, rev, type, deleted}, with no _rev and no ETag.
func TestCozyStackDelete(t *testing.T) {
	stack := newStack(t, `{"permissions": {"t": {"type": "`+trips+`"}}}`)
	a := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 1}`).want(t, "POST", http.StatusCreated, "")
	path := "data/" + trips + "/" + a.body["id"].(string)
	request(t, stack, stack.Token, http.MethodDelete, path, "").want(t, "DELETE without rev", http.StatusBadRequest, "delete without revision")
	d := request(t, stack, stack.Token, http.MethodDelete, path+"?rev="+a.body["rev"].(string), "").want(t, "DELETE", http.StatusOK, "")
	if d.body["deleted"] != true || d.body["rev"] == "" || d.body["_rev"] != nil || d.header.Get("ETag") != "" {
		t.Fatalf("DELETE answer %s %v", d.raw, d.header)
	}
}

// TestCozyStackFindLimits: web/data/data.go, findDocuments: without a limit, or above 1000
// (consts.MaxItemsPerPageForMango), the limit is 100, silently; the answer is
// {docs, limit, next, bookmark}, next telling a full page came back.
func TestCozyStackFindLimits(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	var docs []string
	for i := range 150 {
		docs = append(docs, fmt.Sprintf(`{"_id": "t%03d", "n": %d}`, i, i))
	}
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_bulk_docs", `{"docs": [`+strings.Join(docs, ",")+`]}`).
		want(t, "bulk write", http.StatusCreated, "")
	for _, c := range []struct {
		query      string
		limit, got int
		next       bool
	}{
		{`{"selector": {}}`, 100, 100, true},
		{`{"selector": {}, "limit": 1500}`, 100, 100, true},
		{`{"selector": {}, "limit": 1000}`, 1000, 150, false},
		{`{"selector": {}, "limit": 150}`, 150, 150, true},
	} {
		a := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_find", c.query).want(t, c.query, http.StatusOK, "")
		got, _ := a.body["docs"].([]any)
		if len(got) != c.got || a.body["limit"] != float64(c.limit) || a.body["next"] != c.next {
			t.Errorf("%s: %d docs, limit %v, next %v; want %d, %d, %v", c.query, len(got), a.body["limit"], a.body["next"], c.got, c.limit, c.next)
		}
		if _, ok := a.body["bookmark"]; !ok {
			t.Errorf("%s: no bookmark member in %s", c.query, a.raw[:min(len(a.raw), 200)])
		}
	}
}

// TestCozyStackChanges: web/data/replication.go, changesFeed: GET or POST, both needing GET on the
// doctype; only some query parameters, feed=normal only, a filter only with POST.
func TestCozyStackChanges(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 1}`).want(t, "POST", http.StatusCreated, "")
	base := "data/" + trips + "/_changes"
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		a := request(t, stack, stack.Token, m, base+"?feed=normal&include_docs=true&limit=10", "").want(t, m+" _changes", http.StatusOK, "")
		if results, _ := a.body["results"].([]any); len(results) != 1 {
			t.Fatalf("%s _changes: %s, want one change", m, a.raw)
		}
	}
	request(t, stack, stack.Token, http.MethodGet, base+"?feed=longpoll", "").want(t, "feed=longpoll", http.StatusBadRequest, "Unsuported feed value")
	request(t, stack, stack.Token, http.MethodGet, base+"?conflicts=true", "").want(t, "conflicts=true", http.StatusBadRequest, "Unsupported query parameter")
	request(t, stack, stack.Token, http.MethodGet, base+"?filter=_selector", "").want(t, "GET with a filter", http.StatusBadRequest, "Unsupported query parameter")
	request(t, stack, stack.Token, http.MethodGet, base+"?limit=ten", "").want(t, "limit=ten", http.StatusBadRequest, "Invalid limit value")
	noGet := newStack(t, `{"permissions": {"t": {"type": "`+trips+`", "verbs": ["POST"]}}}`)
	request(t, noGet, noGet.Token, http.MethodPost, base, "").want(t, "POST _changes without GET", http.StatusForbidden, "code=403")
}

// TestCozyStackPermissions: web/middlewares/permissions.go and model/permission: a token without
// the doctype or the verb is refused with 403 (whole-type routes such as _find, _bulk_docs and
// _index need the verb on every document); no token is 401; a token the instance did not issue
// is an invalid JWT (400).
func TestCozyStackPermissions(t *testing.T) {
	stack := newStack(t, `{"permissions": {
		"read": {"type": "`+trips+`", "verbs": ["GET"]},
		"one": {"type": "io.cozy.coachco2.settings", "verbs": ["GET", "PUT"], "values": ["mine"]}}}`)
	request(t, stack, stack.HomeToken, http.MethodPut, "data/"+trips+"/t1", `{"km": 1}`).want(t, "Home creates", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodGet, "data/"+trips+"/t1", "").want(t, "GET granted", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 2}`).want(t, "POST not granted", http.StatusForbidden, "code=403, message=Forbidden")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_bulk_docs", `{"docs": [{"km": 2}]}`).want(t, "_bulk_docs without POST", http.StatusForbidden, "")
	request(t, stack, stack.Token, http.MethodGet, "data/io.cozy.coachco2.consents/x", "").want(t, "a doctype not granted", http.StatusNotFound, "")
	request(t, stack, stack.HomeToken, http.MethodPut, "data/io.cozy.coachco2.consents/x", `{"a": 1}`).want(t, "Home creates", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodGet, "data/io.cozy.coachco2.consents/x", "").want(t, "a doctype not granted", http.StatusForbidden, "")
	request(t, stack, stack.Token, http.MethodPost, "data/io.cozy.coachco2.consents/_find", `{"selector": {}}`).want(t, "_find on a doctype not granted", http.StatusForbidden, "")

	// A rule restricted to some documents grants those, and no whole-type route.
	for _, id := range []string{"mine", "other"} {
		request(t, stack, stack.HomeToken, http.MethodPut, "data/io.cozy.coachco2.settings/"+id, `{"a": 1}`).want(t, "Home creates", http.StatusOK, "")
	}
	request(t, stack, stack.Token, http.MethodGet, "data/io.cozy.coachco2.settings/mine", "").want(t, "the granted document", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodGet, "data/io.cozy.coachco2.settings/other", "").want(t, "another document", http.StatusForbidden, "")
	request(t, stack, stack.Token, http.MethodPost, "data/io.cozy.coachco2.settings/_find", `{"selector": {}}`).want(t, "_find with a restricted rule", http.StatusForbidden, "")

	request(t, stack, "", http.MethodGet, "data/"+trips+"/t1", "").want(t, "no token", http.StatusUnauthorized, "No token in request")
	request(t, stack, "forged", http.MethodGet, "data/"+trips+"/t1", "").want(t, "a forged token", http.StatusBadRequest, "Invalid JWT token")
	stack.Down.Store(true)
	request(t, stack, stack.Token, http.MethodGet, "data/"+trips+"/t1", "").want(t, "down", http.StatusServiceUnavailable, "")
}

// TestCozyStackAccounts: web/data/accounts.go: credentials are encrypted at rest (at create, at
// update, and at the first read of an account written in clear); a konnector's token reads them
// decrypted, an app's does not; the answers carry _type.
func TestCozyStackAccounts(t *testing.T) {
	instance := vaulttest.Instance(t)
	stack := vaulttest.NewCozyStack(t, couch.URL(t), instance, []byte(konnectorManifest))
	account := `{"account_type": "k", "auth": {"login": "pixel", "password": "s3cret", "serverUrl": "https://x"}, "mutedErrors": [{"type": "LOGIN_FAILED"}]}`
	request(t, stack, stack.HomeToken, http.MethodPost, "data/"+accounts+"/", `{"_id": "a", "account_type": "k"}`).
		want(t, "create an account with an _id", http.StatusBadRequest, "defined_id")
	created := request(t, stack, stack.HomeToken, http.MethodPost, "data/"+accounts+"/", account).want(t, "Harvest creates the account", http.StatusCreated, "")
	id := created.body["id"].(string)
	atRest := func() map[string]any {
		auth, _ := rawDoc(t, instance, accounts, id)["auth"].(map[string]any)
		if auth["password"] != nil || auth["credentials_encrypted"] == nil || auth["login"] != "pixel" || auth["serverUrl"] != "https://x" {
			t.Fatalf("account at rest: auth %v, want the password encrypted (credentials_encrypted), the rest in clear", auth)
		}
		return auth
	}
	atRest()
	home := request(t, stack, stack.HomeToken, http.MethodGet, "data/"+accounts+"/"+id, "").want(t, "Home reads", http.StatusOK, "")
	if auth := home.body["auth"].(map[string]any); auth["password"] != nil {
		t.Fatalf("an app's token reads the password: %v", auth)
	}
	got := request(t, stack, stack.Token, http.MethodGet, "data/"+accounts+"/"+id, "").want(t, "the konnector reads", http.StatusOK, "")
	auth := got.body["auth"].(map[string]any)
	if auth["password"] != "s3cret" || auth["login"] != "pixel" || auth["credentials_encrypted"] != nil || got.body["_type"] != accounts {
		t.Fatalf("the konnector's GET: %s, want the credentials decrypted and _type", got.raw)
	}
	// The konnector writes back what it read (with _type): encrypted again at rest, decrypted in the answer.
	got.body["data"] = map[string]any{"cursor": 1}
	body, _ := json.Marshal(got.body)
	put := request(t, stack, stack.Token, http.MethodPut, "data/"+accounts+"/"+id, string(body)).want(t, "the konnector updates", http.StatusOK, "")
	if data := put.body["data"].(map[string]any); data["auth"].(map[string]any)["password"] != "s3cret" {
		t.Fatalf("PUT answer %s, want the credentials decrypted for the konnector", put.raw)
	}
	atRest()
	if muted := rawDoc(t, instance, accounts, id)["mutedErrors"]; muted == nil {
		t.Fatal("the account lost mutedErrors")
	}

	// An account created with a fixed id (createNamedDoc) is stored as sent, and encrypted at its first read.
	request(t, stack, stack.HomeToken, http.MethodPut, "data/"+accounts+"/named", account).want(t, "create with a fixed id", http.StatusOK, "")
	if auth := rawDoc(t, instance, accounts, "named")["auth"].(map[string]any); auth["password"] != "s3cret" {
		t.Fatalf("createNamedDoc stored %v", auth)
	}
	request(t, stack, stack.Token, http.MethodGet, "data/"+accounts+"/named", "").want(t, "read", http.StatusOK, "")
	if auth := rawDoc(t, instance, accounts, "named")["auth"].(map[string]any); auth["password"] != nil || auth["credentials_encrypted"] == nil {
		t.Fatalf("after a read, the account at rest: %v", auth)
	}
}

// TestCozyStackKonnectorDecryptsOnlyForItsToken: an app's token reads the credentials only when
// it asks ?include=credentials (web/data/accounts.go, getAccount).
func TestCozyStackKonnectorDecryptsOnlyForItsToken(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	created := request(t, stack, stack.HomeToken, http.MethodPost, "data/"+accounts+"/",
		`{"account_type": "k", "auth": {"login": "l", "password": "p"}}`).want(t, "create", http.StatusCreated, "")
	a := request(t, stack, stack.HomeToken, http.MethodGet, "data/"+accounts+"/"+created.body["id"].(string)+"?include=credentials", "").
		want(t, "include=credentials", http.StatusOK, "")
	if a.body["auth"].(map[string]any)["password"] != "p" {
		t.Fatalf("include=credentials: %s", a.raw)
	}
}

// TestCozyStackReadsNoGzipBody: web/routing.go sets no decompressing middleware, and the
// handlers of web/data/data.go decode the body as JSON: a gzip body (as kivik sends by default)
// is a 400 where the stack reads it (a document, _find, _index, and _bulk_docs, which
// pkg/couchdb/proxy.go parses before proxying).
func TestCozyStackReadsNoGzipBody(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(`{"docs": [{"km": 1}], "selector": {}, "index": {"fields": ["km"]}}`))
	_ = zw.Close()
	for _, path := range []string{"data/" + trips + "/doc", "data/" + trips + "/_find", "data/" + trips + "/_index", "data/" + trips + "/_bulk_docs"} {
		method := http.MethodPost
		if strings.HasSuffix(path, "/doc") {
			method = http.MethodPut
		}
		req, _ := http.NewRequest(method, stack.URL+path, bytes.NewReader(zipped.Bytes()))
		req.Header.Set("Authorization", "Bearer "+stack.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %s with a gzip body: %s %s, want 400", method, path, resp.Status, body)
		}
	}
}

// TestCozyStackRoutesNeedTheSlash: the routes of a doctype are under "/data/:doctype/"
// (web/data/data.go, Routes) and nothing adds or strips a trailing slash (web/routing.go):
// POST /data/:doctype creates nothing.
func TestCozyStackRoutesNeedTheSlash(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips, `{"km": 1}`).want(t, "POST without the slash", http.StatusNotFound, "code=404")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 1}`).want(t, "POST with the slash", http.StatusCreated, "")
}

// TestCozyStackCountsWrites: Writes counts the documents written (created, updated, deleted, each
// one of a _bulk_docs), not the requests that write no document (_index, _find).
func TestCozyStackCountsWrites(t *testing.T) {
	stack := newStack(t, `{"permissions": {"t": {"type": "`+trips+`"}}}`)
	a := request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/", `{"km": 1}`).want(t, "POST", http.StatusCreated, "")
	id, rev := a.body["id"].(string), a.body["rev"].(string)
	b := request(t, stack, stack.Token, http.MethodPut, "data/"+trips+"/"+id, `{"_id": "`+id+`", "_rev": "`+rev+`", "km": 2}`).want(t, "PUT", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_bulk_docs", `{"docs": [{"km": 3}, {"km": 4}]}`).want(t, "bulk", http.StatusCreated, "")
	request(t, stack, stack.Token, http.MethodDelete, "data/"+trips+"/"+id+"?rev="+b.body["rev"].(string), "").want(t, "DELETE", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_index", `{"index": {"fields": ["km"]}}`).want(t, "_index", http.StatusOK, "")
	request(t, stack, stack.Token, http.MethodPost, "data/"+trips+"/_find", `{"selector": {}}`).want(t, "_find", http.StatusOK, "")
	if n := stack.Writes(trips); n != 5 {
		t.Fatalf("%d writes counted, want 5", n)
	}
	if id := stack.CreateAccount(t, map[string]any{"account_type": "k"}); id == "" || stack.Writes(accounts) != 1 {
		t.Fatalf("CreateAccount: id %q, %d account writes", id, stack.Writes(accounts))
	}
}
