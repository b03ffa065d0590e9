package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/vault"
)

// CozyStack is a test double of a Cozy instance's data API (/data/), the only part of the stack
// a konnector talks to. The stack itself (Go, AGPL, with its own CouchDB, job system and keys)
// cannot run here, so the double answers as the stack's source does, over a real CouchDB-protocol
// server: the same routes and verbs, the same permission checks, the same error bodies and limits.
// Each rule cites the file of cozy/cozy-stack it follows; cozystack_test.go tests each one, so
// that a lax double cannot hide a konnector's bug.
//
// The handlers that read the body decode it as JSON, whatever its Content-Encoding: the stack
// has no decompressing middleware (web/routing.go), so a gzip body is a 400 there, and passed on
// as it is by the proxied routes.
//
// It also installs and serves webapps (cozyapps.go: the apps' template, CSP, CORS and tokens)
// and answers /remote/:doctype (cozyremote.go).
//
// It runs the @event triggers of the apps' services (cozyjobs.go): a write's event pushes a
// job, debounced as the stack does, on a clock the test moves (Advance).
//
// What it leaves out: the jobs' HTTP API and the other triggers, the files, realtime and sharing APIs, the "no_index" refusal of a
// _find that CouchDB answers with a warning (docs/mango.md), and JWT parsing (tokens are opaque
// strings here; a token the double did not issue is refused as an invalid JWT).
type CozyStack struct {
	// URL is the instance URL, with a trailing slash, as COZY_URL gives it.
	URL string
	// Token is the konnector job's token, as COZY_CREDENTIALS gives it: it carries the
	// permissions of the manifest given to NewCozyStack, and the stack decrypts account
	// credentials for it (a konnector audience).
	Token string
	// HomeToken is the token of the instance's Home app (a webapp audience) with every
	// permission: tests use it to do what the person does in Cozy's UI, such as creating the
	// konnector's account as Harvest does (POST /data/io.cozy.accounts/).
	HomeToken string

	// Locale is the instance's locale (instance.Locale), which index.html gets; "en" when empty.
	Locale string
	// CSPAllowList is the stack config's csp_allowlist (source kind -> list): "script",
	// "connect", "img"... added to the apps' CSP as web/routing.go does.
	CSPAllowList map[string]string
	// RemoteDoctypes are the remote doctypes' requests (doctype -> the "request" file of
	// cozy-doctypes), as the stack's doctypes folder (`cozy-stack serve --doctypes`) gives them.
	RemoteDoctypes map[string]string
	// RemoteAllowCustomPort lets a remote request go to another port than the scheme's, as
	// `cozy-stack serve --remote-allow-custom-port` does (the test servers listen on such ports).
	RemoteAllowCustomPort bool
	// RemoteSecrets are the documents of the stack's secrets/io-cozy-remote-secrets database
	// (remote doctype -> field -> secret): a request's template reads field f as the variable
	// secret_f (docs/remote.md, "Secrets"). Apps cannot read them.
	RemoteSecrets map[string]map[string]string

	instance string
	couch    *url.URL
	client   *http.Client
	tokensMu sync.RWMutex // apps are installed while the stack serves
	tokens   map[string]*grant
	// credentials seals the accounts' secrets as the stack's vault key does.
	credentials *seal.Box

	mu       sync.Mutex
	created  map[string]bool // databases
	doctypes map[string]bool // the doctypes of the created databases
	writes   map[string]int  // documents written, per doctype
	// Requests counts requests per "VERB doctype", for tests.
	Requests map[string]int
	// Down makes the stack answer 503 to everything, as an instance being restarted does.
	Down atomic.Bool

	// The job system (cozyjobs.go): the installed apps' service triggers, the jobs pushed and
	// not yet taken, and the double's clock.
	jobsMu     sync.Mutex
	triggers   []*serviceTrigger
	queue      []Job
	clockStart time.Time
	clock      time.Duration
}

// grant is what a token may do: model/permission's Set, and the token's audience.
type grant struct {
	konnector bool
	// all grants everything (the Home token).
	all   bool
	rules []rule
}

// rule is one permission of a manifest (docs/permissions.md): a doctype, its verbs (all when none
// or "ALL" is given) and, optionally, the values of a selector (the document id by default) it is
// restricted to.
type rule struct {
	Type     string   `json:"type"`
	Verbs    []string `json:"verbs"`
	Selector string   `json:"selector"`
	Values   []string `json:"values"`
}

// allVerbs are the verbs "ALL" stands for (model/permission/verbs.go).
var allVerbs = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// NewCozyStack starts a stack double for the instance over the CouchDB at couchURL. Its Token
// carries the permissions of a konnector manifest (its "permissions" member), as the token the
// stack gives a konnector's job does (worker/exec/konnector.go, BuildKonnectorToken). It stops
// when the test ends.
func NewCozyStack(t testing.TB, couchURL, instance string, manifest []byte) *CozyStack {
	t.Helper()
	var m struct {
		Permissions map[string]rule `json:"permissions"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatalf("cozy stack double: manifest: %v", err)
	}
	couch, err := url.Parse(couchURL)
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	s := &CozyStack{instance: instance, couch: couch, client: &http.Client{}, credentials: box,
		tokens: map[string]*grant{}, created: map[string]bool{}, doctypes: map[string]bool{}, writes: map[string]int{}, Requests: map[string]int{},
		clockStart: time.Now()}
	s.Token = newToken(t, "konnector")
	s.HomeToken = newToken(t, "home")
	konnector := &grant{konnector: true}
	for _, p := range m.Permissions {
		konnector.rules = append(konnector.rules, p)
	}
	s.tokens[s.Token] = konnector
	s.tokens[s.HomeToken] = &grant{all: true}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

func newToken(t testing.TB, kind string) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return kind + "-" + hex.EncodeToString(b[:])
}

// verbs returns the rule's verbs, "ALL" or none meaning every verb (model/permission/verbs.go).
func (r rule) verbs() []string {
	if len(r.Verbs) == 0 || slices.Contains(r.Verbs, "ALL") {
		return allVerbs
	}
	return r.Verbs
}

// allowWholeType is model/permission's Set.AllowWholeType: a rule on the doctype grants the verb
// and is not restricted to some documents. The Home token holds every permission.
func (g *grant) allowWholeType(verb, doctype string) bool {
	if g.all {
		return true
	}
	for _, r := range g.rules {
		if r.Type == doctype && slices.Contains(r.verbs(), verb) && len(r.Values) == 0 {
			return true
		}
	}
	return false
}

// allow is model/permission's Set.Allow for one document: a rule on the doctype grants the verb,
// for every document or for this one (its selector's value, the id by default, is among the
// rule's values).
func (g *grant) allow(verb, doctype string, doc map[string]any) bool {
	if g.all {
		return true
	}
	for _, r := range g.rules {
		if r.Type != doctype || !slices.Contains(r.verbs(), verb) {
			continue
		}
		if len(r.Values) == 0 {
			return true
		}
		field := r.Selector
		if field == "" {
			field = "_id"
		}
		if v, ok := doc[field]; ok && slices.Contains(r.Values, fmt.Sprint(v)) {
			return true
		}
	}
	return false
}

// lookupToken returns the grant of a token the double issued, or nil.
func (s *CozyStack) lookupToken(tok string) *grant {
	s.tokensMu.RLock()
	defer s.tokensMu.RUnlock()
	return s.tokens[tok]
}

// addToken issues a token with the grant.
func (s *CozyStack) addToken(tok string, g *grant) {
	s.tokensMu.Lock()
	defer s.tokensMu.Unlock()
	s.tokens[tok] = g
}

// cors is web/middlewares/cors.go's CORS, which the router applies to every route but /auth/:
// any origin, with credentials; a preflight gets the methods, the asked headers and 204.
func cors(w http.ResponseWriter, r *http.Request) (done bool) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method != http.MethodOptions {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", "43200")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// ServeHTTP answers a request to the instance.
func (s *CozyStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cors(w, r) {
		return
	}
	if s.Down.Load() {
		httpError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	// web/remote/remote.go: /remote/:doctype (the double has no remote assets).
	if doctype, ok := strings.CutPrefix(r.URL.Path, "/remote/"); ok && doctype != "" && !strings.Contains(doctype, "/") {
		s.remote(w, r, doctype)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/data/")
	if !ok {
		httpError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	c := &call{s: s, w: w, r: r, body: body}
	segments := strings.Split(rest, "/")
	// web/data/data.go, Routes: "/" and "/_all_doctypes" need no doctype.
	if rest == "" {
		if r.Method != http.MethodGet {
			httpError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"message": "welcome to a cozy API"})
		return
	}
	doctype, err := url.PathUnescape(segments[0])
	if err != nil || doctype == "" {
		// web/data/data.go, ValidDoctype.
		jsonapiError(w, http.StatusBadRequest, fmt.Sprintf("Invalid doctype '%s'", doctype))
		return
	}
	if doctype == "_all_doctypes" && len(segments) == 1 {
		c.allDoctypes()
		return
	}
	// The stack names a database by its rule from any doctype; CouchDB refuses what is not a
	// database name: the double refuses it up front, with the vault's own check.
	if err := vault.ValidateDoctype(doctype); err != nil {
		couchError(w, http.StatusBadRequest, "illegal_database_name", err.Error())
		return
	}
	c.doctype = doctype
	if c.db, err = vault.DBName(s.instance, doctype); err != nil {
		couchError(w, http.StatusBadRequest, "illegal_database_name", err.Error())
		return
	}
	s.mu.Lock()
	s.Requests[r.Method+" "+doctype]++
	s.mu.Unlock()
	c.route(segments[1:])
}

// call is one request to the double.
type call struct {
	s       *CozyStack
	w       http.ResponseWriter
	r       *http.Request
	body    []byte
	doctype string
	db      string // the CouchDB database of the doctype
}

// route dispatches a request under /data/:doctype/ as the stack's router does
// (web/data/data.go, Routes, and web/data/replication.go, replicationRoutes). Static routes win;
// a path that only matches "/:docid" goes to the document handlers, whatever it looks like, so
// that GET /data/:doctype/_index is "get the document _index" (refused: bad_id).
func (c *call) route(segs []string) {
	m := c.r.Method
	if len(segs) == 0 {
		// The routes are "/data/:doctype/..." and nothing strips or adds a trailing slash
		// (web/routing.go): POST /data/:doctype, without it, is not found.
		httpError(c.w, http.StatusNotFound, "Not Found")
		return
	}
	if len(segs) == 1 && segs[0] == "" {
		switch m {
		case http.MethodGet:
			c.dbStatus()
		case http.MethodPut:
			c.createDB()
		case http.MethodPost:
			c.createDoc()
		default:
			httpError(c.w, http.StatusMethodNotAllowed, "Method Not Allowed")
		}
		return
	}
	if len(segs) == 1 {
		seg := segs[0]
		switch {
		case seg == "_all_docs" && (m == http.MethodGet || m == http.MethodPost):
			c.wholeTypeProxy(http.MethodGet, m, "_all_docs")
		case seg == "_normal_docs" && m == http.MethodGet:
			c.normalDocs()
		case seg == "_index" && m == http.MethodPost:
			c.defineIndex()
		case seg == "_find" && m == http.MethodPost:
			c.find()
		case seg == "_design_docs" && m == http.MethodGet:
			c.wholeTypeProxy(http.MethodGet, m, "_design_docs")
		case seg == "_changes" && (m == http.MethodGet || m == http.MethodPost):
			c.changes()
		case seg == "_bulk_docs" && m == http.MethodPost:
			c.bulkDocs()
		case (seg == "_bulk_get" || seg == "_revs_diff" || seg == "_ensure_full_commit") && m == http.MethodPost:
			c.wholeTypeProxy(http.MethodGet, m, seg)
		default:
			c.document(seg)
		}
		return
	}
	if len(segs) == 2 {
		id, err := url.PathUnescape(segs[1])
		if err != nil {
			jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Invalid docid '%s'", segs[1]))
			return
		}
		switch {
		case segs[0] == "_local" && (m == http.MethodGet || m == http.MethodPut):
			// web/data/replication.go, getLocalDoc and setLocalDoc: both need GET only.
			c.wholeTypeProxy(http.MethodGet, m, "_local/"+url.PathEscape(id))
			return
		case segs[0] == "_design" && m == http.MethodGet:
			c.wholeTypeProxy(http.MethodGet, m, "_design/"+url.PathEscape(id))
			return
		case segs[0] == "_design" && m == http.MethodDelete:
			c.deleteDesignDoc(id)
			return
		}
	}
	// No route: echo's 404 (or 405 when a route has the path but not the verb).
	httpError(c.w, http.StatusNotFound, "Not Found")
}

// document dispatches /data/:doctype/:docid by verb (web/data/data.go, Routes).
func (c *call) document(rawID string) {
	// web/data/data.go, ValidDoctype: the id is query-unescaped.
	id, err := url.QueryUnescape(rawID)
	if err != nil {
		jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Invalid docid '%s'", rawID))
		return
	}
	switch c.r.Method {
	case http.MethodGet:
		c.getDoc(id)
	case http.MethodPut:
		c.updateDoc(id)
	case http.MethodDelete:
		c.deleteDoc(id)
	default:
		httpError(c.w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

// grant returns the permissions of the request's token (web/middlewares/permissions.go,
// GetRequestToken and ParseJWT), or writes the stack's refusal and returns nil: 401 without a
// token, 400 for a token the instance did not issue (model/permission/errors.go,
// ErrInvalidToken).
func (c *call) grant() *grant {
	tok := requestToken(c.r)
	if tok == "" {
		httpError(c.w, http.StatusUnauthorized, "No token in request")
		return nil
	}
	g := c.s.lookupToken(tok)
	if g == nil {
		httpError(c.w, http.StatusBadRequest, "Invalid JWT token")
		return nil
	}
	return g
}

// allowWholeType is middlewares.AllowWholeType: it writes 403 (an empty echo.HTTPError) and
// returns false when the token does not grant verb on the whole doctype.
func (c *call) allowWholeType(verb string) (*grant, bool) {
	g := c.grant()
	if g == nil {
		return nil, false
	}
	if !g.allowWholeType(verb, c.doctype) {
		httpError(c.w, http.StatusForbidden, "Forbidden")
		return nil, false
	}
	return g, true
}

// allowDoc is middlewares.Allow for one document.
func (c *call) allowDoc(verb string, doc map[string]any) (*grant, bool) {
	g := c.grant()
	if g == nil {
		return nil, false
	}
	if !g.allow(verb, c.doctype, doc) {
		httpError(c.w, http.StatusForbidden, "Forbidden")
		return nil, false
	}
	return g, true
}

// wholeTypeProxy checks verb on the whole doctype and passes the request to CouchDB, as the
// stack's proxy routes do (web/data/data.go allDocs, getDesignDocs...; web/data/replication.go
// getLocalDoc, setLocalDoc, bulkGet, revsDiff, fullCommit).
func (c *call) wholeTypeProxy(verb, method, escapedTail string) {
	if _, ok := c.allowWholeType(verb); !ok {
		return
	}
	c.proxy(method, escapedTail, c.r.URL.RawQuery, c.body)
}

// proxy sends the request to CouchDB and copies its answer (pkg/couchdb/proxy.go, Proxy); it
// returns CouchDB's status and answer (0 and nil when CouchDB could not be reached).
func (c *call) proxy(method, escapedTail, rawQuery string, body []byte) (int, []byte) {
	// The request goes on with its headers: a gzip body reaches CouchDB, which reads it.
	resp, out, err := c.s.couchDo(c.r.Context(), method, c.db, escapedTail, rawQuery, body, c.r.Header.Get("Content-Encoding"))
	if err != nil {
		couchError(c.w, http.StatusServiceUnavailable, "no_couch", "could not create connection with the server")
		return 0, nil
	}
	for _, h := range []string{"Content-Type", "ETag"} {
		if v := resp.Header.Get(h); v != "" {
			c.w.Header().Set(h, v)
		}
	}
	c.w.WriteHeader(resp.StatusCode)
	_, _ = c.w.Write(out)
	return resp.StatusCode, out
}

// couchDo sends one request to the database db of CouchDB and reads its answer.
func (s *CozyStack) couchDo(ctx context.Context, method, db, escapedTail, rawQuery string, body []byte, contentEncoding string) (*http.Response, []byte, error) {
	u := *s.couch
	u.User = nil
	u.RawPath = strings.TrimSuffix(s.couch.EscapedPath(), "/") + "/" + vault.EscapeDBName(db)
	if escapedTail != "" {
		u.RawPath += "/" + escapedTail
	}
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = rawQuery
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if contentEncoding != "" {
		req.Header.Set("Content-Encoding", contentEncoding)
	}
	if s.couch.User != nil {
		p, _ := s.couch.User.Password()
		req.SetBasicAuth(s.couch.User.Username(), p)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp, out, err
}

// couchJSON sends a request to CouchDB and decodes a 2xx answer into out; other answers are
// returned as a *couchErr (pkg/couchdb/errors.go, newCouchdbError).
func (s *CozyStack) couchJSON(ctx context.Context, method, db, escapedTail, rawQuery string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, raw, err := s.couchDo(ctx, method, db, escapedTail, rawQuery, body, "")
	if err != nil {
		return &couchErr{status: http.StatusServiceUnavailable, name: "no_couch", reason: "could not create connection with the server"}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		e := &couchErr{status: resp.StatusCode}
		var parsed struct{ Error, Reason string }
		if json.Unmarshal(raw, &parsed) != nil {
			e.name, e.reason = "wrong_json", "invalid JSON from CouchDB"
		} else {
			e.name, e.reason = parsed.Error, parsed.Reason
		}
		if e.name == "doc_validation" {
			e.status = http.StatusBadRequest // CouchDB's status; pouchdb-server answers 500
		}
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// ensureDB creates the doctype's database when the stack would (createDocOrDb,
// CreateNamedDocWithDB, DefineIndexRaw, EnsureDBExist in pkg/couchdb/couchdb.go).
func (c *call) ensureDB() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.created[c.db] {
		return nil
	}
	err := c.s.couchJSON(c.r.Context(), http.MethodPut, c.db, "", "", nil, nil)
	var ce *couchErr
	if err != nil && !(asCouchErr(err, &ce) && ce.status == http.StatusPreconditionFailed) {
		return err
	}
	c.s.created[c.db] = true
	c.s.doctypes[c.doctype] = true
	return nil
}

// couchErr is pkg/couchdb's Error: the stack answers it as {"ok": false, "status": "404",
// "error": ..., "reason": ...} (Error.JSON, by couchdbStyleErrorHandler in web/data/data.go).
type couchErr struct {
	status       int
	name, reason string
}

func (e *couchErr) Error() string { return fmt.Sprintf("CouchDB(%s): %s", e.name, e.reason) }

func asCouchErr(err error, target **couchErr) bool {
	ce, ok := err.(*couchErr)
	if ok {
		*target = ce
	}
	return ok
}

// fail writes err as the stack does: a CouchDB error in CouchDB's style, anything else as a 500.
func (c *call) fail(err error) {
	var ce *couchErr
	if asCouchErr(err, &ce) {
		couchError(c.w, ce.status, ce.name, ce.reason)
		return
	}
	writeJSON(c.w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
}

// wrongDoctype is fixErrorNoDatabaseIsWrongDoctype (web/data/data.go): a missing database is
// reported as a wrong doctype.
func wrongDoctype(err error) error {
	var ce *couchErr
	if asCouchErr(err, &ce) && (ce.reason == "no_db_file" || ce.reason == "Database does not exist.") {
		ce.reason = "wrong_doctype"
	}
	return err
}

// badID is validateDocID (pkg/couchdb/couchdb.go): an id starting with "_" names no document.
func badID(id string) error {
	if strings.HasPrefix(id, "_") {
		return &couchErr{status: http.StatusBadRequest, name: "bad_id", reason: "Unsuported couchdb operation " + id}
	}
	return nil
}

func couchError(w http.ResponseWriter, status int, name, reason string) {
	writeJSON(w, status, map[string]any{"ok": false, "status": fmt.Sprint(status), "error": name, "reason": reason})
}

// httpError is an echo.HTTPError as couchdbStyleErrorHandler (web/data/data.go) writes it:
// {"error": "code=403, message=Forbidden"}.
func httpError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": fmt.Sprintf("code=%d, message=%s", status, message)})
}

// jsonapiError is a jsonapi.Error (pkg/jsonapi/errors.go) as couchdbStyleErrorHandler writes it.
func jsonapiError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]any{"error": fmt.Sprintf("%s(%d): %s", http.StatusText(status), status, detail)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// RequestCount returns how many requests the double has answered for "VERB doctype", such as
// "PUT io.cozy.accounts".
func (s *CozyStack) RequestCount(verbDoctype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[verbDoctype]
}

// Writes returns how many document writes (creates, updates, deletions, one per document of a
// _bulk_docs) the double has passed to CouchDB for the doctype.
func (s *CozyStack) Writes(doctype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[doctype]
}

// wrote counts n document writes of the call's doctype.
func (c *call) wrote(n int) {
	c.s.mu.Lock()
	c.s.writes[c.doctype] += n
	c.s.mu.Unlock()
}

// CreateAccount creates an io.cozy.accounts document as Cozy's Harvest does when the person
// fills the konnector's form (POST /data/io.cozy.accounts/ with the Home app's token; the stack
// encrypts the credentials), and returns its id.
func (s *CozyStack) CreateAccount(t testing.TB, account map[string]any) string {
	t.Helper()
	body, err := json.Marshal(account)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"data/"+accountsDoctype+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.HomeToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var created struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &created) != nil || created.ID == "" {
		t.Fatalf("cozy stack double: create the account: %s %s", resp.Status, raw)
	}
	return created.ID
}
