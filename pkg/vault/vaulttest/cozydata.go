package vaulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The handlers of the double's data API: each follows the function of cozy/cozy-stack named in
// its comment (web/data/data.go unless said otherwise).

// maxItemsPerPageForMango is consts.MaxItemsPerPageForMango (pkg/consts): the largest _find
// limit the stack passes on; above it, the limit becomes 100.
const maxItemsPerPageForMango = 1000

// defaultFindLimit is the limit of a _find that gives none, or one above
// maxItemsPerPageForMango (findDocuments).
const defaultFindLimit = 100

// allDoctypes is allDoctypes: GET /data/_all_doctypes needs GET on io.cozy.doctypes.
func (c *call) allDoctypes() {
	g := c.grant()
	if g == nil {
		return
	}
	if !g.allowWholeType(http.MethodGet, "io.cozy.doctypes") {
		httpError(c.w, http.StatusForbidden, "Forbidden")
		return
	}
	c.s.mu.Lock()
	doctypes := []string{}
	for d := range c.s.doctypes {
		doctypes = append(doctypes, d)
	}
	c.s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, doctypes)
}

// dbStatus is dbStatus (web/data/replication.go): GET /data/:doctype/ needs GET.
func (c *call) dbStatus() { c.wholeTypeProxy(http.MethodGet, http.MethodGet, "") }

// createDB is createDB (web/data/replication.go): PUT /data/:doctype/ needs POST.
func (c *call) createDB() {
	if _, ok := c.allowWholeType(http.MethodPost); !ok {
		return
	}
	if err := c.ensureDB(); err != nil {
		c.fail(err)
		return
	}
	writeJSON(c.w, http.StatusCreated, map[string]any{"ok": true})
}

// decode reads the request's JSON object. With stripType, "_type" goes, as
// couchdb.JSONDoc.UnmarshalJSON drops it (pkg/couchdb/couchdb.go); the handlers that decode
// into the document's map directly (createDoc, createAccount) keep it, and CouchDB then refuses
// it as a special member.
func (c *call) decode(stripType bool) (map[string]any, bool) {
	var m map[string]any
	if err := json.NewDecoder(bytes.NewReader(c.body)).Decode(&m); err != nil {
		jsonapiError(c.w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if m == nil {
		m = map[string]any{}
	}
	if stripType {
		delete(m, "_type")
	}
	return m, true
}

// str is a string member of a document, "" when absent or not a string (JSONDoc.ID, Rev).
func str(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}

// getCouchDoc is couchdb.GetDoc: the id is checked (bad_id), then read.
func (c *call) getCouchDoc(id, rawQuery string) (map[string]any, error) {
	if err := badID(id); err != nil {
		return nil, err
	}
	var doc map[string]any
	err := c.s.couchJSON(c.r.Context(), http.MethodGet, c.db, url.PathEscape(id), rawQuery, nil, &doc)
	return doc, err
}

// written is the stack's answer to a write: {ok, id, rev, type, data} with the document and its
// "_type" (createDoc, createNamedDoc, UpdateDoc).
func (c *call) written(status int, doc map[string]any) {
	doc["_type"] = c.doctype
	writeJSON(c.w, status, map[string]any{"ok": true, "id": str(doc, "_id"), "rev": str(doc, "_rev"), "type": c.doctype, "data": doc})
}

// getDoc is getDoc: the document is read first (so that an id starting with "_", such as
// "_index", is refused with bad_id whatever the token), then GET is checked on it, and the
// answer carries "_type".
func (c *call) getDoc(id string) {
	if c.doctype == accountsDoctype {
		c.getAccount(id)
		return
	}
	doc, err := c.getCouchDoc(id, "")
	if err != nil {
		c.fail(wrongDoctype(err))
		return
	}
	if _, ok := c.allowDoc(http.MethodGet, doc); !ok {
		return
	}
	doc["_type"] = c.doctype
	writeJSON(c.w, http.StatusOK, doc)
}

// createDoc is createDoc: POST /data/:doctype/ needs POST on the document, refuses an "_id"
// (couchdb.CreateDoc: 400 defined_id) and answers 201 {ok, id, rev, type, data}.
func (c *call) createDoc() {
	if c.doctype == accountsDoctype {
		c.createAccount()
		return
	}
	doc, ok := c.decode(false)
	if !ok {
		return
	}
	if _, ok := c.allowDoc(http.MethodPost, doc); !ok {
		return
	}
	c.create(doc)
}

// create is couchdb.CreateDoc: a new document with an id chosen by CouchDB.
func (c *call) create(doc map[string]any) {
	if str(doc, "_id") != "" {
		couchError(c.w, http.StatusBadRequest, "defined_id", "document _id should be empty")
		return
	}
	if err := c.ensureDB(); err != nil {
		c.fail(err)
		return
	}
	var res struct {
		ID  string `json:"id"`
		Rev string `json:"rev"`
	}
	if err := c.s.couchJSON(c.r.Context(), http.MethodPost, c.db, "", "", doc, &res); err != nil {
		c.fail(err)
		return
	}
	c.wrote(1)
	c.s.event(c.doctype, EventCreated, res.ID)
	doc["_id"], doc["_rev"] = res.ID, res.Rev
	c.written(http.StatusCreated, doc)
}

// updateDoc is UpdateDoc: PUT /data/:doctype/:docid takes a body with both "_id" (the URL's) and
// "_rev" (an update, PUT on the document) or neither (a create with that id: createNamedDoc,
// POST on the document); anything else is 400.
func (c *call) updateDoc(id string) {
	if c.doctype == accountsDoctype {
		c.updateAccount(id)
		return
	}
	doc, ok := c.decode(true)
	if !ok {
		return
	}
	if !c.checkIDRev(id, doc) {
		return
	}
	if str(doc, "_id") == "" {
		doc["_id"] = id
		c.createNamedDoc(doc)
		return
	}
	if !c.allowUpdate(doc) || !c.put(doc) {
		return
	}
	c.written(http.StatusOK, doc)
}

// checkIDRev is the first check of UpdateDoc and updateAccount.
func (c *call) checkIDRev(id string, doc map[string]any) bool {
	docID, rev := str(doc, "_id"), str(doc, "_rev")
	if (docID == "") != (rev == "") {
		jsonapiError(c.w, http.StatusBadRequest,
			"You must either provide an _id and _rev in document (update) or neither (create with fixed id).")
		return false
	}
	if docID != "" && docID != id {
		jsonapiError(c.w, http.StatusBadRequest, "document _id doesnt match url")
		return false
	}
	return true
}

// allowUpdate is UpdateDoc's permission check: PUT on the whole doctype, or on both the
// current document and the new one.
func (c *call) allowUpdate(doc map[string]any) bool {
	g := c.grant()
	if g == nil {
		return false
	}
	if g.allowWholeType(http.MethodPut, c.doctype) {
		return true
	}
	old, err := c.getCouchDoc(str(doc, "_id"), "")
	if err != nil {
		c.fail(err)
		return false
	}
	if !g.allow(http.MethodPut, c.doctype, old) || !g.allow(http.MethodPut, c.doctype, doc) {
		httpError(c.w, http.StatusForbidden, "Forbidden")
		return false
	}
	return true
}

// put is couchdb.UpdateDoc; on success doc holds its new revision and true is returned, else the
// error is written.
func (c *call) put(doc map[string]any) bool {
	id := str(doc, "_id")
	if err := badID(id); err != nil {
		c.fail(err)
		return false
	}
	var res struct {
		Rev string `json:"rev"`
	}
	if err := c.s.couchJSON(c.r.Context(), http.MethodPut, c.db, url.PathEscape(id), "", doc, &res); err != nil {
		c.fail(wrongDoctype(err))
		return false
	}
	c.wrote(1)
	c.s.event(c.doctype, EventUpdated, id)
	doc["_rev"] = res.Rev
	return true
}

// createNamedDoc is createNamedDoc: POST on the document, then couchdb.CreateNamedDocWithDB (the
// database is created when missing; an existing id is a 409 conflict). Accounts made this way
// are stored as sent: the stack encrypts them at their next read (getAccount).
func (c *call) createNamedDoc(doc map[string]any) {
	if _, ok := c.allowDoc(http.MethodPost, doc); !ok {
		return
	}
	id := str(doc, "_id")
	if err := badID(id); err != nil {
		c.fail(err)
		return
	}
	if err := c.ensureDB(); err != nil {
		c.fail(err)
		return
	}
	var res struct {
		Rev string `json:"rev"`
	}
	if err := c.s.couchJSON(c.r.Context(), http.MethodPut, c.db, url.PathEscape(id), "", doc, &res); err != nil {
		c.fail(wrongDoctype(err))
		return
	}
	c.wrote(1)
	c.s.event(c.doctype, EventCreated, id)
	doc["_rev"] = res.Rev
	c.written(http.StatusOK, doc)
}

// deleteDoc is DeleteDoc: the revision comes from If-Match or ?rev (400 without one, or when
// both differ), the document is read, DELETE is checked on it, and the answer is
// {ok, id, rev, type, deleted}: no "_rev" and no ETag.
func (c *call) deleteDoc(id string) {
	revHeader, revQuery := c.r.Header.Get("If-Match"), c.r.URL.Query().Get("rev")
	rev := revQuery
	switch {
	case revHeader != "" && revQuery != "" && revHeader != revQuery:
		jsonapiError(c.w, http.StatusBadRequest, "If-Match Header and rev query parameters mismatch")
		return
	case revHeader != "":
		rev = revHeader
	case revQuery == "":
		jsonapiError(c.w, http.StatusBadRequest, "delete without revision")
		return
	}
	doc, err := c.getCouchDoc(id, "")
	if err != nil {
		c.fail(err)
		return
	}
	if _, ok := c.allowDoc(http.MethodDelete, doc); !ok {
		return
	}
	var res struct {
		Rev string `json:"rev"`
	}
	q := url.Values{"rev": {rev}}.Encode()
	if err := c.s.couchJSON(c.r.Context(), http.MethodDelete, c.db, url.PathEscape(id), q, nil, &res); err != nil {
		c.fail(wrongDoctype(err))
		return
	}
	c.wrote(1)
	c.s.event(c.doctype, EventDeleted, id)
	writeJSON(c.w, http.StatusOK, map[string]any{"ok": true, "id": id, "rev": res.Rev, "type": c.doctype, "deleted": true})
}

// deleteDesignDoc is deleteDesignDoc: GET on the doctype and a ?rev are needed.
func (c *call) deleteDesignDoc(ddoc string) {
	if _, ok := c.allowWholeType(http.MethodGet); !ok {
		return
	}
	if c.r.URL.Query().Get("rev") == "" {
		writeJSON(c.w, http.StatusBadRequest, map[string]any{"error": "You must pass a rev param"})
		return
	}
	c.proxy(http.MethodDelete, "_design/"+url.PathEscape(ddoc), c.r.URL.RawQuery, nil)
}

// defineIndex is defineIndex: POST /data/:doctype/_index defines a Mango index with GET on the
// doctype (creating the database when missing); CouchDB's answer ("created" or "exists") is
// passed on. There is no route to list or delete indexes.
func (c *call) defineIndex() {
	def, ok := c.decode(false)
	if !ok {
		return
	}
	if _, ok := c.allowWholeType(http.MethodGet); !ok {
		return
	}
	if err := c.ensureDB(); err != nil {
		c.fail(err)
		return
	}
	var res map[string]any
	if err := c.s.couchJSON(c.r.Context(), http.MethodPost, c.db, "_index", "", def, &res); err != nil {
		c.fail(err)
		return
	}
	writeJSON(c.w, http.StatusOK, res)
}

// find is findDocuments: POST /data/:doctype/_find with GET on the doctype; a limit that is
// missing or above 1000 becomes 100, silently; the answer is {docs, limit, next, bookmark}, next
// telling that a full page came back.
func (c *call) find() {
	req, ok := c.decode(false)
	if !ok {
		return
	}
	if _, ok := c.allowWholeType(http.MethodGet); !ok {
		return
	}
	limit, hasLimit := req["limit"].(float64)
	if !hasLimit || limit > maxItemsPerPageForMango {
		limit = defaultFindLimit
	}
	req["limit"] = limit
	var res struct {
		Docs     []json.RawMessage `json:"docs"`
		Bookmark string            `json:"bookmark"`
	}
	if err := c.s.couchJSON(c.r.Context(), http.MethodPost, c.db, "_find", "", req, &res); err != nil {
		c.fail(err)
		return
	}
	if res.Docs == nil {
		res.Docs = []json.RawMessage{}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"docs": res.Docs, "limit": limit,
		"next": len(res.Docs) >= int(limit), "bookmark": res.Bookmark})
}

// normalDocs is normalDocs: GET /data/:doctype/_normal_docs pages the documents but the design
// documents, with skip and a limit of at most 1000 (100 otherwise); pkg/couchdb's NormalDocs
// runs a _find on every id.
func (c *call) normalDocs() {
	if _, ok := c.allowWholeType(http.MethodGet); !ok {
		return
	}
	q := c.r.URL.Query()
	skip, err := strconv.ParseInt(q.Get("skip"), 10, 64)
	if err != nil || skip < 0 {
		skip = 0
	}
	limit, err := strconv.ParseInt(q.Get("limit"), 10, 64)
	if err != nil || limit < 0 || limit > maxItemsPerPageForMango {
		limit = defaultFindLimit
	}
	req := map[string]any{"selector": map[string]any{"_id": map[string]any{"$gt": nil}}, "skip": skip, "limit": limit}
	if b := q.Get("bookmark"); b != "" {
		req["bookmark"] = b
	}
	var res struct {
		Docs     []json.RawMessage `json:"docs"`
		Bookmark string            `json:"bookmark"`
	}
	if err := c.s.couchJSON(c.r.Context(), http.MethodPost, c.db, "_find", "", req, &res); err != nil {
		c.fail(err)
		return
	}
	var rows []json.RawMessage
	for _, d := range res.Docs {
		var id struct {
			ID string `json:"_id"`
		}
		if json.Unmarshal(d, &id) == nil && !strings.HasPrefix(id.ID, "_design/") {
			rows = append(rows, d)
		}
	}
	if rows == nil {
		rows = []json.RawMessage{}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"total_rows": int(skip) + len(rows), "rows": rows, "bookmark": res.Bookmark})
}

// allowedChangesParams are the only query parameters of _changes (web/data/replication.go).
var allowedChangesParams = map[string]bool{"feed": true, "style": true, "since": true, "limit": true, "timeout": true,
	"include_docs": true, "heartbeat": true, "_nonce": true, "seq_interval": true, "descending": true}

// changes is changesFeed (web/data/replication.go): GET or POST /data/:doctype/_changes with GET
// on the doctype, only the parameters above (and "filter", static, with POST), feed=normal only;
// the stack then asks CouchDB with a GET (couchdb.GetChanges), or a POST with the body for a
// filter (couchdb.PostChanges, pkg/couchdb/changes.go).
func (c *call) changes() {
	q := c.r.URL.Query()
	for key := range q {
		if key == "filter" && c.r.Method == http.MethodPost {
			continue
		}
		if !allowedChangesParams[key] {
			jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Unsupported query parameter '%s'", key))
			return
		}
	}
	if f := q.Get("feed"); f != "" && f != "normal" {
		jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Unsuported feed value '%s'", f))
		return
	}
	style := q.Get("style")
	switch style {
	case "":
		style = "main_only"
	case "main_only", "all_docs":
	default:
		jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Unsuported style value '%s'", style))
		return
	}
	filter := q.Get("filter")
	switch filter {
	case "", "_doc_ids", "_selector", "_design":
	default:
		jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Unsuported filter value '%s'", filter))
		return
	}
	for _, p := range []string{"limit", "seq_interval"} {
		if v := q.Get(p); v != "" {
			if _, err := strconv.Atoi(v); err != nil {
				jsonapiError(c.w, http.StatusBadRequest, fmt.Sprintf("Invalid %s value '%s': %s", p, v, err))
				return
			}
		}
	}
	if _, ok := c.allowWholeType(http.MethodGet); !ok {
		return
	}
	// The request CouchDB gets (couchdb.ChangesRequest): timeout and heartbeat are dropped.
	out := url.Values{"feed": {"normal"}, "style": {style}}
	for _, p := range []string{"since", "limit", "seq_interval", "filter"} {
		if v := q.Get(p); v != "" && v != "0" {
			out.Set(p, v)
		}
	}
	for _, p := range []string{"include_docs", "descending"} {
		if q.Get(p) == "true" {
			out.Set(p, "true")
		}
	}
	if filter == "" {
		c.proxy(http.MethodGet, "_changes", out.Encode(), nil)
		return
	}
	c.proxy(http.MethodPost, "_changes", out.Encode(), c.body)
}

// bulkDocs is bulkDocs (web/data/replication.go) and couchdb.ProxyBulkDocs: POST on the doctype;
// the body must be JSON, and is passed to CouchDB as it is (no encryption of accounts there).
func (c *call) bulkDocs() {
	if _, ok := c.allowWholeType(http.MethodPost); !ok {
		return
	}
	var req struct {
		Docs []map[string]any `json:"docs"`
	}
	if json.Unmarshal(c.body, &req) != nil {
		httpError(c.w, http.StatusBadRequest, "request body is not valid JSON")
		return
	}
	if err := c.ensureDB(); err != nil {
		c.fail(err)
		return
	}
	c.wrote(len(req.Docs))
	status, answer := c.proxy(http.MethodPost, "_bulk_docs", c.r.URL.RawQuery, c.body)
	c.bulkEvents(status, req.Docs, answer)
}
