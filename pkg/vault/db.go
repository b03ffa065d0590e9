package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	kivik "github.com/go-kivik/kivik/v4"
)

// DB is the handle of one database of the vault: one doctype of the
// instance. Get it with [Vault.DB]. It is safe for concurrent use.
type DB struct {
	v       *Vault
	doctype string
	name    string
	kdb     *kivik.DB

	localMu sync.Mutex
	// localRevs is the revision of each _local document this handle last read or wrote, "" for
	// one it found missing: PutLocal writes with it, without first reading the document.
	localRevs map[string]string
}

// Name returns the database name, e.g. "alice/io-cozy-accounts".
func (d *DB) Name() string { return d.name }

// Doctype returns the doctype the database holds.
func (d *DB) Doctype() string { return d.doctype }

// Get reads the document id into dest (anything encoding/json can decode
// into, including *json.RawMessage) and returns its revision. A missing or
// deleted document gives an error matching [ErrNotFound].
func (d *DB) Get(ctx context.Context, id string, dest any) (rev string, err error) {
	if err := d.allow(http.MethodGet); err != nil {
		return "", err
	}
	return d.get(ctx, id, dest)
}

// get is [DB.Get] without asking the policy.
func (d *DB) get(ctx context.Context, id string, dest any) (rev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: get in %s: empty document id", d.name)
	}
	doc := d.kdb.Get(ctx, id)
	if rev, err = doc.Rev(); err != nil {
		return "", d.fail("get", id, err)
	}
	if err := doc.ScanDoc(dest); err != nil {
		return "", d.fail("decode", id, err)
	}
	return rev, nil
}

// Put writes doc (anything encoding/json can encode) under id and returns the
// new revision. To update an existing document, doc must carry its current
// "_rev"; a missing or stale _rev gives an error matching [ErrConflict]. See
// [Update] for a read-modify-write that retries on conflicts.
func (d *DB) Put(ctx context.Context, id string, doc any) (rev string, err error) {
	if err := d.allow(http.MethodPut); err != nil {
		return "", err
	}
	return d.put(ctx, id, doc)
}

// put is [DB.Put] without asking the policy.
func (d *DB) put(ctx context.Context, id string, doc any) (rev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: put in %s: empty document id", d.name)
	}
	rev, err = d.kdb.Put(ctx, id, doc)
	if err != nil {
		return "", d.fail("put", id, err)
	}
	return rev, nil
}

// Create writes doc as a new document with an id chosen by the server, and
// returns that id and the revision.
func (d *DB) Create(ctx context.Context, doc any) (id, rev string, err error) {
	if err := d.allow(http.MethodPost); err != nil {
		return "", "", err
	}
	id, rev, err = d.kdb.CreateDoc(ctx, doc)
	if err != nil {
		return "", "", d.fail("create", "", err)
	}
	return id, rev, nil
}

// Delete deletes the document id at revision rev, leaving a tombstone that
// the changes feed reports, and returns the tombstone's revision. A stale rev
// gives an error matching [ErrConflict]; a missing document, [ErrNotFound].
func (d *DB) Delete(ctx context.Context, id, rev string) (newRev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: delete in %s: empty document id", d.name)
	}
	if err := d.allow(http.MethodDelete); err != nil {
		return "", err
	}
	newRev, err = d.kdb.Delete(ctx, id, rev)
	if err != nil {
		return "", d.fail("delete", id, err)
	}
	return newRev, nil
}

// Count returns the number of documents in the database, not counting
// deleted documents, design documents or _local documents.
func (d *DB) Count(ctx context.Context) (int64, error) {
	if err := d.allow(http.MethodGet); err != nil {
		return 0, err
	}
	rs := d.kdb.AllDocs(ctx, kivik.Param("limit", 0))
	for rs.Next() { // no rows: limit is 0
	}
	if err := rs.Err(); err != nil {
		return 0, d.fail("count documents of", "", err)
	}
	meta, err := rs.Metadata()
	if err != nil {
		return 0, d.fail("count documents of", "", err)
	}
	// CouchDB counts design documents (the Mango indexes) in total_rows; the
	// embedded driver keeps indexes outside the documents.
	design := d.kdb.AllDocs(ctx, kivik.Param("startkey", "_design/"), kivik.Param("endkey", "_design0"))
	var designDocs int64
	for design.Next() {
		designDocs++
	}
	if err := design.Err(); err != nil {
		return 0, d.fail("count design documents of", "", err)
	}
	return meta.TotalRows - designDocs, nil
}

// Index is a Mango (JSON) index on one or more fields, in ascending order.
// Nested fields use dots: "cozyMetadata.sourceAccount".
type Index struct {
	// Name names the index; it is also the name of its design document.
	Name   string
	Fields []string
	// ddoc is the design document of an existing index, as the server gave it.
	ddoc string
}

// Indexes returns the database's Mango indexes, without the built-in
// _all_docs index.
func (d *DB) Indexes(ctx context.Context) ([]Index, error) {
	if err := d.allow(http.MethodGet); err != nil {
		return nil, err
	}
	return d.indexes(ctx)
}

// indexes is [DB.Indexes] without asking the policy.
func (d *DB) indexes(ctx context.Context) ([]Index, error) {
	kidx, err := d.kdb.GetIndexes(ctx)
	if err != nil {
		return nil, d.fail("list indexes of", "", err)
	}
	var out []Index
	for _, ki := range kidx {
		if ki.Type == "special" || ki.Name == "_all_docs" {
			continue
		}
		out = append(out, Index{Name: ki.Name, Fields: indexFields(ki.Definition), ddoc: ki.DesignDoc})
	}
	return out, nil
}

// indexFields reads the field names of an index definition
// {"fields": [{"a": "asc"}, "b"...]}.
func indexFields(def any) []string {
	raw, err := json.Marshal(def)
	if err != nil {
		return nil
	}
	var parsed struct {
		Fields []json.RawMessage `json:"fields"`
	}
	if json.Unmarshal(raw, &parsed) != nil {
		return nil
	}
	var fields []string
	for _, f := range parsed.Fields {
		var name string
		if json.Unmarshal(f, &name) == nil {
			fields = append(fields, name)
			continue
		}
		var sorted map[string]string
		if json.Unmarshal(f, &sorted) == nil {
			for name := range sorted { // one key per entry
				fields = append(fields, name)
			}
		}
	}
	return fields
}

// EnsureIndexes creates the indexes that do not exist yet, and recreates an
// index whose name exists with other fields. It is idempotent: indexes that
// already exist as asked are left alone.
//
// With a [Policy], EnsureIndexes needs POST on the doctype; without POST, it
// still succeeds, with GET, when every index already exists as asked.
//
// Through a Cozy stack, which can neither list nor delete indexes, each index
// is defined with POST /data/:doctype/_index, which leaves an index that
// exists as asked alone and replaces one of that name with other fields; the
// stack (and the [Policy]) then asks for GET on the doctype.
func (d *DB) EnsureIndexes(ctx context.Context, indexes ...Index) error {
	if len(indexes) == 0 {
		return nil
	}
	for _, want := range indexes {
		if want.Name == "" || len(want.Fields) == 0 {
			return fmt.Errorf("vault: index on %s: a name and at least one field are required", d.name)
		}
	}
	if d.v.cozy {
		return d.defineIndexes(ctx, indexes)
	}
	forbidden := d.allow(http.MethodPost)
	if forbidden != nil {
		if err := d.allow(http.MethodGet); err != nil {
			return forbidden
		}
	}
	existing, err := d.indexes(ctx)
	if err != nil {
		return err
	}
	for _, want := range indexes {
		i := slices.IndexFunc(existing, func(have Index) bool { return have.Name == want.Name })
		if i >= 0 && slices.Equal(existing[i].Fields, want.Fields) {
			continue
		}
		if forbidden != nil {
			return forbidden
		}
		if i >= 0 {
			ddoc := existing[i].ddoc
			if !d.v.Embedded() {
				// kivik's CouchDB driver puts ddoc in the URL path as it is:
				// "_design/name" must stay one segment for pouchdb-server.
				ddoc = url.PathEscape(ddoc)
			}
			if err := d.kdb.DeleteIndex(ctx, ddoc, want.Name); err != nil {
				return d.fail("replace index "+want.Name+" of", "", err)
			}
		}
		def := map[string]any{"fields": want.Fields}
		if err := d.kdb.CreateIndex(ctx, want.Name, want.Name, def); err != nil {
			return d.fail("create index "+want.Name+" on", "", err)
		}
	}
	return nil
}

// defineIndexes defines the indexes through a Cozy stack: web/data/data.go routes POST
// /data/:doctype/_index (defineIndex, GET permission) and nothing else for indexes; a GET of
// .../_index is "get the document _index", refused as a bad id.
func (d *DB) defineIndexes(ctx context.Context, indexes []Index) error {
	if err := d.allow(http.MethodGet); err != nil {
		return err
	}
	for _, want := range indexes {
		if err := d.kdb.CreateIndex(ctx, want.Name, want.Name, map[string]any{"fields": want.Fields}); err != nil {
			return d.fail("define index "+want.Name+" on", "", err)
		}
	}
	return nil
}

// withIDRev returns the JSON of doc, which must encode to a JSON object, with its "_id" set to
// id and its "_rev" to rev, in place or first. With rev "" (a create) the body holds neither:
// CouchDB and the embedded store take the id from the URL, and a Cozy stack refuses a PUT body
// with an _id but no _rev (web/data/data.go, UpdateDoc), creating with the URL's id only from a
// body with neither.
func withIDRev(doc any, id, rev string) (json.RawMessage, error) {
	var raw []byte
	var err error
	if m, ok := doc.(json.Marshaler); ok {
		// As is: encoding/json would check and compact what it returns, a pass over a document
		// of megabytes that the store makes anyway.
		raw, err = m.MarshalJSON()
	} else {
		raw, err = json.Marshal(doc)
	}
	if err != nil {
		return nil, err
	}
	if spliced, ok := spliceIDRev(raw, id, rev); ok {
		return spliced, nil
	}
	return setIDRev(raw, id, rev)
}

// setIDRev is withIDRev on the encoded document, decoding its members.
func setIDRev(raw []byte, id, rev string) (json.RawMessage, error) {
	o, err := parseObject(raw)
	if err != nil {
		return nil, errors.New("the document does not encode to a JSON object")
	}
	if rev == "" {
		o.remove("_id")
		o.remove("_rev")
		return o.marshal(), nil
	}
	idJSON, _ := json.Marshal(id)
	revJSON, _ := json.Marshal(rev)
	for _, m := range []struct {
		k string
		v json.RawMessage
	}{{"_rev", revJSON}, {"_id", idJSON}} {
		if _, ok := o.vals[m.k]; !ok {
			o.keys = append([]string{m.k}, o.keys...)
		}
		o.vals[m.k] = m.v
	}
	return o.marshal(), nil
}

// spliceIDRev is withIDRev's fast path for the usual object, which has neither "_id" nor "_rev":
// they are written in front of its members, without decoding it (the figures cache's documents
// are megabytes). ok is false for anything else, which the slow path handles.
func spliceIDRev(raw []byte, id, rev string) (json.RawMessage, bool) {
	body := bytes.TrimSpace(raw)
	if has, ok := hasIDOrRev(body); !ok || has {
		return nil, false
	}
	if rev == "" {
		return body, true
	}
	idJSON, _ := json.Marshal(id)
	revJSON, _ := json.Marshal(rev)
	out := make([]byte, 0, len(body)+len(idJSON)+len(revJSON)+16)
	out = append(out, `{"_id":`...)
	out = append(out, idJSON...)
	out = append(out, `,"_rev":`...)
	out = append(out, revJSON...)
	if rest := bytes.TrimSpace(body[1:]); rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[1:]...), true
}

// hasIDOrRev says whether the JSON object body has an "_id" or "_rev" member; ok is false when
// body is not an object it can read, or has a key with an escape (which might spell either).
// It reads a member's string value with bytes.IndexByte, not byte by byte: the figures cache's
// documents are megabytes of one string.
func hasIDOrRev(body []byte) (has, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false, false
	}
	if i = skipSpace(body, i+1); i < len(body) && body[i] == '}' {
		return false, skipSpace(body, i+1) == len(body)
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return false, false
		}
		end, ok := stringEnd(body, i)
		if !ok {
			return false, false
		}
		key := body[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false, false
		}
		if string(key) == "_id" || string(key) == "_rev" {
			return true, true
		}
		if i = skipSpace(body, end); i >= len(body) || body[i] != ':' {
			return false, false
		}
		if i, ok = valueEnd(body, skipSpace(body, i+1)); !ok {
			return false, false
		}
		switch i = skipSpace(body, i); {
		case i >= len(body):
			return false, false
		case body[i] == '}':
			return false, skipSpace(body, i+1) == len(body)
		case body[i] != ',':
			return false, false
		}
		i = skipSpace(body, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] (a '"').
func stringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false
		}
		q := j + k
		escapes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// valueEnd returns the index after the value starting at b[i]. It checks the shape only: the
// store checks the rest.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); {
			switch b[j] {
			case '"':
				end, ok := stringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
			j++
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, j > i
}
