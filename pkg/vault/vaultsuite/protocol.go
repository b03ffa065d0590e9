package vaultsuite

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	kivik "github.com/go-kivik/kivik/v4"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// protocolCases check CouchDB's protocol below the vault's API, through a kivik handle on the
// vault's database. Each one is a class of difference a randomized comparison with a
// CouchDB-protocol server found in the embedded store, settled against CouchDB 3's behaviour.
func protocolCases() []Case {
	return []Case{
		{"ProtocolIndexNeedsAllFields", testIndexNeedsAllFields},
		{"ProtocolInOnArrays", testInOnArrays},
		{"ProtocolAllDocsKeysLimit", testAllDocsKeysLimit},
		{"ProtocolAllDocsKeysRows", testAllDocsKeysRows},
		{"ProtocolIDRawOrder", testIDRawOrder},
		{"ProtocolMalformedRev", testMalformedRev},
		{"ProtocolBulkDeletedConflict", testBulkDeletedConflict},
		{"ProtocolChangesDescending", testChangesDescending},
		{"ProtocolAllDocsUpdateSeq", testAllDocsUpdateSeq},
		{"ProtocolLiveChanges", testLiveChanges},
	}
}

// protocolDB creates the test's database through a vault and returns kivik's handle on it.
func (s *suite) protocolDB(t *testing.T) *kivik.DB {
	t.Helper()
	instance := vaulttest.Instance(t)
	OpenDB(t, s.store.Open(t, instance), testDoctype)
	return s.store.Kivik(t, instance, testDoctype)
}

// bulk writes docs with _bulk_docs and fails the test if the request fails as a whole.
func bulk(t *testing.T, db *kivik.DB, docs ...any) []kivik.BulkResult {
	t.Helper()
	res, err := db.BulkDocs(context.Background(), docs)
	if err != nil {
		t.Fatalf("_bulk_docs: %v", err)
	}
	if len(res) != len(docs) {
		t.Fatalf("_bulk_docs: %d results for %d documents", len(res), len(docs))
	}
	return res
}

// kivikFind runs a Mango query and returns the ids, in order, or the error.
func kivikFind(db *kivik.DB, query string) ([]string, error) {
	rows := db.Find(context.Background(), json.RawMessage(query))
	defer rows.Close()
	var ids []string
	for rows.Next() {
		// CouchDB's _find answers documents, not rows: the id is the document's.
		var doc struct {
			ID string `json:"_id"`
		}
		if err := rows.ScanDoc(&doc); err != nil {
			return nil, err
		}
		ids = append(ids, doc.ID)
	}
	return ids, rows.Err()
}

// kivikIDs reads the ids of _all_docs or _changes rows.
func kivikIDs(t *testing.T, rows interface {
	Next() bool
	ID() (string, error)
	Err() error
	Close() error
}) []string {
	t.Helper()
	defer rows.Close()
	var ids []string
	for rows.Next() {
		id, err := rows.ID()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// changesIDs reads a changes feed: the ids in order, and its last sequence.
func changesIDs(t *testing.T, feed *kivik.Changes) (ids []string, lastSeq string) {
	t.Helper()
	for feed.Next() {
		ids = append(ids, feed.ID())
	}
	if err := feed.Err(); err != nil {
		t.Fatal(err)
	}
	meta, err := feed.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return ids, meta.LastSeq
}

// testIndexNeedsAllFields: CouchDB uses a json index only when the selector requires every one
// of its fields (mango_idx_view:is_usable, sort fields aside), since a document lacking one is
// not in the index. So with an index on [type, n], {"type": "a"} still finds the documents
// without n. A sort may follow fields the selector holds constant.
func testIndexNeedsAllFields(t *testing.T, s *suite) {
	ctx := context.Background()
	db := s.protocolDB(t)
	bulk(t, db,
		map[string]any{"_id": "a1", "type": "a", "n": 1},
		map[string]any{"_id": "a2", "type": "a"},
		map[string]any{"_id": "a3", "type": "a", "n": 3},
		map[string]any{"_id": "b1", "type": "b", "n": 2},
		map[string]any{"_id": "x1", "n": 4},
	)
	if err := db.CreateIndex(ctx, "type-n", "type-n", map[string]any{"fields": []string{"type", "n"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, query string
		want        []string
		ordered     bool
	}{
		{"equality on the first field", `{"selector": {"type": "a"}}`, []string{"a1", "a2", "a3"}, false},
		{"$in on the first field", `{"selector": {"type": {"$in": ["a"]}}}`, []string{"a1", "a2", "a3"}, false},
		{"$nin on the first field", `{"selector": {"type": {"$nin": ["b"]}}}`, []string{"a1", "a2", "a3"}, false},
		{"$not on the first field", `{"selector": {"type": {"$not": {"$eq": "b"}}}}`, []string{"a1", "a2", "a3"}, false},
		{"both fields", `{"selector": {"type": "a", "n": {"$gt": 0}}}`, []string{"a1", "a3"}, false},
		{"sort on both fields", `{"selector": {"type": "a"}, "sort": ["type", "n"]}`, []string{"a1", "a3"}, true},
		{"sort after a constant field", `{"selector": {"type": "a", "n": {"$gte": 0}}, "sort": [{"n": "desc"}]}`, []string{"a3", "a1"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			got, err := kivikFind(db, c.query)
			if err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			if !c.ordered {
				got = sorted(got)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("%s = %q, want %q", c.query, got, c.want)
			}
		})
	}
}

// testInOnArrays: $in matches an array when one of its elements is in the list, $nin when none
// is (mango_selector:match); the array as a whole is not compared.
func testInOnArrays(t *testing.T, s *suite) {
	db := s.protocolDB(t)
	bulk(t, db,
		map[string]any{"_id": "ab", "tags": []string{"a", "b"}},
		map[string]any{"_id": "c", "tags": []string{"c"}},
		map[string]any{"_id": "empty", "tags": []string{}},
		map[string]any{"_id": "scalar", "tags": "a"},
		map[string]any{"_id": "none"},
	)
	for _, c := range []struct {
		name, selector string
		want           []string
	}{
		{"$in", `{"tags": {"$in": ["a", "z"]}}`, []string{"ab", "scalar"}},
		{"$nin", `{"tags": {"$nin": ["a"]}}`, []string{"c", "empty"}},
		{"$in an array", `{"tags": {"$in": [["c"]]}}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			got, err := kivikFind(db, `{"selector": `+c.selector+`}`)
			if err != nil {
				t.Fatal(err)
			}
			if got = sorted(got); !slices.Equal(got, c.want) {
				t.Fatalf("%s = %q, want %q", c.selector, got, c.want)
			}
		})
	}
}

// testAllDocsKeysLimit: with keys, _all_docs reverses the keys when descending, then applies
// skip and limit (fabric_view_all_docs).
func testAllDocsKeysLimit(t *testing.T, s *suite) {
	db := s.protocolDB(t)
	bulk(t, db, map[string]any{"_id": "k1"}, map[string]any{"_id": "k2"}, map[string]any{"_id": "k3"})
	keys := []string{"k3", "k1", "missing", "k2"}
	for _, c := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"limit", map[string]any{"limit": 2}, []string{"k3", "k1"}},
		{"limit 0", map[string]any{"limit": 0}, nil},
		{"skip and limit", map[string]any{"skip": 1, "limit": 2}, []string{"k1", "missing"}},
		{"descending", map[string]any{"descending": true, "limit": 3}, []string{"k2", "missing", "k1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			c.params["keys"] = keys
			rows := db.AllDocs(context.Background(), kivik.Params(c.params))
			defer rows.Close()
			var got []string
			for rows.Next() {
				// A missing document's row carries its error (kivik's CouchDB driver drops it).
				key, err := rows.Key()
				if key == "" {
					t.Fatal(err)
				}
				var id string
				if err := json.Unmarshal([]byte(key), &id); err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("_all_docs %v = %q, want %q", c.params, got, c.want)
			}
		})
	}
}

// testAllDocsKeysRows: with keys, _all_docs answers a row per key, in the keys' order, a key
// given twice twice: a document with its revision (and body with include_docs), a deleted one
// marked deleted and without body, a missing one with an error; whatever characters the ids hold.
func testAllDocsKeysRows(t *testing.T, s *suite) {
	db := s.protocolDB(t)
	odd := []string{`quo"te`, `back\slash`, "<tag>&amp;", "été 🚲", "tab\tnew\nline"}
	var docs []any
	for i, id := range odd {
		docs = append(docs, map[string]any{"_id": id, "n": i})
	}
	docs = append(docs, map[string]any{"_id": "gone", "n": -1})
	res := bulk(t, db, docs...)
	revs := map[string]string{}
	for i, r := range res {
		if r.Error != nil {
			t.Fatalf("write %v: %v", docs[i], r.Error)
		}
		revs[r.ID] = r.Rev
	}
	deleted := bulk(t, db, map[string]any{"_id": "gone", "_rev": revs["gone"], "_deleted": true})[0]
	if deleted.Error != nil {
		t.Fatal(deleted.Error)
	}
	gone := deleted.Rev
	keys := append(slices.Clone(odd), "missing", odd[0], "gone")
	type row struct {
		Key   string `json:"key"`
		ID    string `json:"id"`
		Error string `json:"error"`
		Value *struct {
			Rev     string `json:"rev"`
			Deleted bool   `json:"deleted"`
		} `json:"value"`
		Doc map[string]any `json:"doc"`
	}
	rows := db.AllDocs(context.Background(), kivik.Params(map[string]any{"keys": keys, "include_docs": true}))
	defer rows.Close()
	var got []row
	for rows.Next() {
		key, _ := rows.Key()
		var r row
		if err := json.Unmarshal([]byte(key), &r.Key); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		r.ID, _ = rows.ID()
		if err := rows.ScanValue(&r.Value); err != nil {
			r.Error = err.Error()
		}
		_ = rows.ScanDoc(&r.Doc)
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d rows for %d keys: %+v", len(got), len(keys), got)
	}
	for i, k := range keys {
		r := got[i]
		if r.Key != k {
			t.Fatalf("row %d is for %q, want %q", i, r.Key, k)
		}
		switch {
		case k == "missing":
			if r.Value != nil && r.Value.Rev != "" || r.Doc != nil {
				t.Errorf("row of a missing document: %+v", r)
			}
		case k == "gone":
			if r.ID != k || r.Value == nil || r.Value.Rev != gone || !r.Value.Deleted || r.Doc != nil {
				t.Errorf("row of a deleted document: %+v, want rev %s, deleted, no doc", r, gone)
			}
		default:
			n := slices.Index(odd, k)
			if r.ID != k || r.Value == nil || r.Value.Rev != revs[k] || r.Value.Deleted || r.Doc["_id"] != k || r.Doc["n"] != float64(n) {
				t.Errorf("row of %q: %+v, want rev %s and its document", k, r, revs[k])
			}
		}
	}
}

// testIDRawOrder: Mango compares _id by raw bytes, as _all_docs orders it
// (mango_selector:match uses mango_json:cmp_raw for _id), not by Unicode collation.
func testIDRawOrder(t *testing.T, s *suite) {
	db := s.protocolDB(t)
	// Raw order: D10 < Z9 < d05 < e01. By Unicode collation: d05 < D10 < e01 < Z9.
	bulk(t, db, map[string]any{"_id": "D10"}, map[string]any{"_id": "Z9"}, map[string]any{"_id": "d05"}, map[string]any{"_id": "e01"})
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"$gt", `{"selector": {"_id": {"$gt": "d05"}}}`, []string{"e01"}},
		{"$lt", `{"selector": {"_id": {"$lt": "a"}}}`, []string{"D10", "Z9"}},
		{"sort", `{"selector": {"_id": {"$gte": "D"}}, "sort": ["_id"]}`, []string{"D10", "Z9", "d05", "e01"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			got, err := kivikFind(db, c.query)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("%s = %q, want %q", c.query, got, c.want)
			}
		})
	}
}

// testMalformedRev: a revision that is not N-hash is a bad request (400), not a conflict
// (couch_doc:parse_rev), whatever the call; a whole _bulk_docs request is refused.
func testMalformedRev(t *testing.T, s *suite) {
	ctx := context.Background()
	db := s.protocolDB(t)
	rev, err := db.Put(ctx, "doc", map[string]any{"v": 1})
	if err != nil {
		t.Fatal(err)
	}
	bads := []string{"bogus", "x-1234"}
	put := func(t *testing.T, bad string) {
		if _, err := db.Put(ctx, "doc", map[string]any{"_rev": bad, "v": 2}); kivik.HTTPStatus(err) != http.StatusBadRequest {
			t.Errorf("Put with _rev %q: %v, want 400", bad, err)
		}
	}
	bulkDocs := func(t *testing.T, bad string) {
		res, err := db.BulkDocs(ctx, []any{map[string]any{"_id": "other"}, map[string]any{"_id": "doc", "_rev": bad}})
		if kivik.HTTPStatus(err) != http.StatusBadRequest {
			t.Errorf("_bulk_docs with _rev %q: %+v, %v; want the request refused with 400", bad, res, err)
		}
	}
	t.Run("Put", func(t *testing.T) {
		s.skipIfKnown(t)
		for _, bad := range bads {
			put(t, bad)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s.skipIfKnown(t)
		for _, bad := range bads {
			if _, err := db.Delete(ctx, "doc", bad); kivik.HTTPStatus(err) != http.StatusBadRequest {
				t.Errorf("Delete with rev %q: %v, want 400", bad, err)
			}
		}
	})
	t.Run("BulkDocs", func(t *testing.T) {
		s.skipIfKnown(t)
		for _, bad := range bads {
			bulkDocs(t, bad)
		}
	})
	// A 32-character revision id is read as 128 bits in hexadecimal.
	t.Run("non-hex revision id", func(t *testing.T) {
		s.skipIfKnown(t)
		bad := "1-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		put(t, bad)
		bulkDocs(t, bad)
	})
	var got struct {
		Rev string `json:"_rev"`
	}
	if err := db.Get(ctx, "doc").ScanDoc(&got); err != nil || got.Rev != rev {
		t.Fatalf("after the refusals: rev %q, %v; want %q", got.Rev, err, rev)
	}
	if err := db.Get(ctx, "other").Err(); kivik.HTTPStatus(err) != http.StatusNotFound {
		t.Fatalf("a refused _bulk_docs request wrote a document: %v", err)
	}
}

// testBulkDeletedConflict: once a document is deleted, an update may only recreate it from
// scratch (no _rev, not deleted); deleting it again, or writing over its tombstone's revision,
// is a conflict, also within one _bulk_docs request (couch_db_updater:merge_rev_tree).
func testBulkDeletedConflict(t *testing.T, s *suite) {
	ctx := context.Background()
	db := s.protocolDB(t)
	rev1, err := db.Put(ctx, "x", map[string]any{"v": 1})
	if err != nil {
		t.Fatal(err)
	}
	status := func(r kivik.BulkResult) int {
		if r.Error == nil {
			return http.StatusCreated
		}
		return kivik.HTTPStatus(r.Error)
	}
	res := bulk(t, db,
		map[string]any{"_id": "x", "_rev": rev1, "_deleted": true},
		map[string]any{"_id": "x", "_rev": rev1, "_deleted": true},
	)
	if status(res[0]) != http.StatusCreated || status(res[1]) != http.StatusConflict {
		t.Fatalf("deleting twice at one revision in one request: %d, %d (%v); want 201, 409", status(res[0]), status(res[1]), res[1].Error)
	}
	tombstone := res[0].Rev
	for _, c := range []struct {
		name string
		doc  map[string]any
	}{
		{"delete at the tombstone's revision", map[string]any{"_id": "x", "_rev": tombstone, "_deleted": true}},
		{"delete without a revision", map[string]any{"_id": "x", "_deleted": true}},
		{"write over the tombstone's revision", map[string]any{"_id": "x", "_rev": tombstone, "v": 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			if r := bulk(t, db, c.doc)[0]; status(r) != http.StatusConflict {
				t.Errorf("%v: %d (%v), want 409", c.doc, status(r), r.Error)
			}
		})
	}
	t.Run("recreate", func(t *testing.T) {
		s.skipIfKnown(t)
		r := bulk(t, db, map[string]any{"_id": "x", "v": 3})[0]
		if status(r) != http.StatusCreated || revGen(t, r.Rev) != revGen(t, tombstone)+1 {
			t.Fatalf("recreate: %+v, want 201 at the generation after the tombstone's (%s)", r, tombstone)
		}
	})
}

// testChangesDescending: a descending feed starts from the latest change whatever since says
// (couch_changes: since applies to the forward direction only).
func testChangesDescending(t *testing.T, s *suite) {
	ctx := context.Background()
	db := s.protocolDB(t)
	var seq2 string
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		if _, err := db.Put(ctx, id, map[string]any{}); err != nil {
			t.Fatal(err)
		}
		if id == "c2" {
			var ids []string
			ids, seq2 = changesIDs(t, db.Changes(ctx))
			if !slices.Equal(ids, []string{"c1", "c2"}) {
				t.Fatalf("changes after c2 = %q", ids)
			}
		}
	}
	for _, c := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"since", map[string]any{"descending": true, "since": seq2}, []string{"c4", "c3", "c2", "c1"}},
		{"since and limit", map[string]any{"descending": true, "since": seq2, "limit": 2}, []string{"c4", "c3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.skipIfKnown(t)
			if got, _ := changesIDs(t, db.Changes(ctx, kivik.Params(c.params))); !slices.Equal(got, c.want) {
				t.Fatalf("_changes %v = %q, want %q", c.params, got, c.want)
			}
		})
	}
}

// testAllDocsUpdateSeq: update_seq=true adds the database's sequence to _all_docs.
func testAllDocsUpdateSeq(t *testing.T, s *suite) {
	ctx := context.Background()
	db := s.protocolDB(t)
	if _, err := db.Put(ctx, "a", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	rows := db.AllDocs(ctx, kivik.Param("update_seq", true))
	if ids := kivikIDs(t, rows); !slices.Equal(ids, []string{"a"}) {
		t.Fatalf("_all_docs = %q", ids)
	}
	meta, err := rows.Metadata()
	if err != nil || meta.UpdateSeq == "" {
		t.Fatalf("_all_docs?update_seq=true: metadata %+v, %v; want an update_seq", meta, err)
	}
}

// testLiveChanges: a longpoll feed waits for the next change; a continuous feed streams the
// changes as they come, until closed. The writes come after the feeds are open; each feed is
// read until the changes arrive (a deadline only stops a store that never sends them).
func testLiveChanges(t *testing.T, s *suite) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := s.protocolDB(t)
	if _, err := db.Put(ctx, "before", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	t.Run("longpoll", func(t *testing.T) {
		s.skipIfKnown(t)
		feed := db.Changes(ctx, kivik.Params(map[string]any{"feed": "longpoll", "since": "now"}))
		defer feed.Close()
		if _, err := db.Put(ctx, "polled", map[string]any{}); err != nil {
			t.Fatal(err)
		}
		if !feed.Next() || feed.ID() != "polled" {
			t.Fatalf("longpoll: %q, %v; want the change written after it opened", feed.ID(), feed.Err())
		}
	})
	t.Run("continuous", func(t *testing.T) {
		s.skipIfKnown(t)
		feed := db.Changes(ctx, kivik.Params(map[string]any{"feed": "continuous", "since": "now", "heartbeat": 1000}))
		defer feed.Close()
		var got []string
		for _, id := range []string{"c1", "c2"} {
			if _, err := db.Put(ctx, id, map[string]any{}); err != nil {
				t.Fatal(err)
			}
			if !feed.Next() {
				t.Fatalf("continuous: closed after %q: %v", got, feed.Err())
			}
			got = append(got, feed.ID())
		}
		if !slices.Equal(got, []string{"c1", "c2"}) {
			t.Fatalf("continuous: %q, want [c1 c2]", got)
		}
	})
}
