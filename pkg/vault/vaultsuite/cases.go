package vaultsuite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// vaultCases are the cases that go through the vault's API.
func vaultCases() []Case {
	return []Case{
		{"DatabaseNamesWithSlash", testDatabaseNamesWithSlash},
		{"ListDatabasesWithSlash", testListDatabasesWithSlash},
		{"SlashIsolation", testSlashIsolation},
		{"GetPutDeleteTombstone", testGetPutDeleteTombstone},
		{"DeleteTombstoneAgain", testDeleteTombstoneAgain},
		{"ConflictStaleRev", testConflictStaleRev},
		{"ConflictMissingRev", testConflictMissingRev},
		{"UpdateCreatesThenMerges", testUpdateCreatesThenMerges},
		{"UpdateConcurrentWriters", testUpdateConcurrentWriters},
		{"UpdateGivesUp", testUpdateGivesUp},
		{"UpdateMergeError", testUpdateMergeError},
		{"BulkPerDocumentResults", testBulkPerDocumentResults},
		{"BulkBatches", testBulkBatches},
		{"ReservedIDs", testReservedIDs},
		{"MangoOperators", testMangoOperators},
		{"SortWithIndex", testSortWithIndex},
		{"PagingExclusiveRange", testPagingExclusiveRange},
		{"FieldsProjection", testFieldsProjection},
		{"PagingOverThousand", testPagingOverThousand},
		{"Changes", testChanges},
		{"LocalDocuments", testLocalDocuments},
		{"LocalDocumentReplaced", testLocalDocumentReplaced},
		{"LocalDocumentWrittenElsewhere", testLocalDocumentWrittenElsewhere},
		{"IndexesIdempotentAndHidden", testIndexesIdempotentAndHidden},
		{"GetMany", testGetMany},
		{"Revs", testRevs},
		{"LeaseTakenInTurns", testLeaseTakenInTurns},
	}
}

func testDatabaseNamesWithSlash(t *testing.T, s *suite) {
	ctx := context.Background()
	base := vaulttest.Instance(t)
	// '.' and ':' become '-', upper case becomes lower case, '/' separates.
	v := s.store.Open(t, base+".Alice:8080")
	db := OpenDB(t, v, "io.cozy.coachco2.settings")
	want := base + "-alice-8080/io-cozy-coachco2-settings"
	if db.Name() != want {
		t.Fatalf("Name() = %q, want %q", db.Name(), want)
	}
	if _, err := db.Put(ctx, "s1", map[string]any{"theme": "dark"}); err != nil {
		t.Fatal(err)
	}
	// A second handle finds the same database by its name.
	other := s.store.Open(t, base+".alice:8080")
	odb, err := other.DB(ctx, "io.cozy.coachco2.settings")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Theme string `json:"theme"`
	}
	if _, err := odb.Get(ctx, "s1", &got); err != nil || got.Theme != "dark" {
		t.Fatalf("Get from a second handle = %+v, %v; want theme dark", got, err)
	}
	if n, err := odb.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
}

func testListDatabasesWithSlash(t *testing.T, s *suite) {
	ctx := context.Background()
	instance := vaulttest.Instance(t)
	v := s.store.Open(t, instance)
	OpenDB(t, v, "io.cozy.coachco2.settings")
	OpenDB(t, v, "io.cozy.accounts")
	got, err := v.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{instance + "/io-cozy-accounts", instance + "/io-cozy-coachco2-settings"}
	if !slices.Equal(got, want) {
		t.Fatalf("Databases() = %q, want %q", got, want)
	}
}

func testSlashIsolation(t *testing.T, s *suite) {
	ctx := context.Background()
	base := vaulttest.Instance(t)
	// "<base>ab/c-d" and "<base>a/bc-d" differ only by where the '/' is.
	one := OpenDB(t, s.store.Open(t, base+"ab"), "c.d")
	two := OpenDB(t, s.store.Open(t, base+"a"), "bc.d")
	if one.Name() == two.Name() {
		t.Fatalf("both databases are named %q", one.Name())
	}
	if _, err := one.Put(ctx, "doc", map[string]any{"in": "one"}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if _, err := two.Get(ctx, "doc", &doc); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get from %s = %v, %v; want ErrNotFound (the document is in %s)", two.Name(), doc, err, one.Name())
	}
}

func testGetPutDeleteTombstone(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	var doc map[string]any
	if _, err := db.Get(ctx, "trip-1", &doc); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get of a missing document: err = %v, want ErrNotFound", err)
	}
	rev1, err := db.Put(ctx, "trip-1", map[string]any{"startDate": "2024-05-01T08:00:00Z", "km": 12.5})
	if err != nil {
		t.Fatal(err)
	}
	if revGen(t, rev1) != 1 {
		t.Errorf("first revision %q, want 1-...", rev1)
	}
	var got struct {
		ID        string  `json:"_id"`
		Rev       string  `json:"_rev"`
		StartDate string  `json:"startDate"`
		Km        float64 `json:"km"`
	}
	rev, err := db.Get(ctx, "trip-1", &got)
	if err != nil {
		t.Fatal(err)
	}
	if rev != rev1 || got.ID != "trip-1" || got.Rev != rev1 || got.StartDate != "2024-05-01T08:00:00Z" || got.Km != 12.5 {
		t.Fatalf("Get = %q %+v, want rev %q and the fields written", rev, got, rev1)
	}
	if n, err := db.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	rev2, err := db.Delete(ctx, "trip-1", rev1)
	if err != nil {
		t.Fatal(err)
	}
	if revGen(t, rev2) != 2 {
		t.Errorf("tombstone revision %q, want 2-...", rev2)
	}
	if _, err := db.Get(ctx, "trip-1", &doc); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get of a deleted document: err = %v, want ErrNotFound", err)
	}
	if n, err := db.Count(ctx); err != nil || n != 0 {
		t.Fatalf("Count after delete = %d, %v; want 0", n, err)
	}
	if ids := FindIDs(t, db, vault.Query{}); len(ids) != 0 {
		t.Fatalf("Find after delete = %q, want nothing", ids)
	}
	// Deleting what was never written finds nothing: CouchDB opens the
	// document before it deletes it (chttpd_db, DELETE).
	if _, err := db.Delete(ctx, "never-written", "1-0123456789abcdef0123456789abcdef"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Delete of a never written document: err = %v, want ErrNotFound", err)
	}
	// Writing the id again without _rev continues after the tombstone.
	rev3, err := db.Put(ctx, "trip-1", map[string]any{"km": 3})
	if err != nil {
		t.Fatalf("Put over a tombstone: %v", err)
	}
	if revGen(t, rev3) != 3 {
		t.Errorf("revision over the tombstone %q, want 3-...", rev3)
	}
}

// testDeleteTombstoneAgain checks that deleting a deleted document at its
// tombstone's revision finds nothing, as CouchDB opens the document before it
// deletes it.
func testDeleteTombstoneAgain(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	rev1, err := db.Put(ctx, "gone", map[string]any{"v": 1})
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := db.Delete(ctx, "gone", rev1)
	if err != nil {
		t.Fatal(err)
	}
	if rev3, err := db.Delete(ctx, "gone", rev2); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Delete at the tombstone's revision = %q, %v; want ErrNotFound", rev3, err)
	}
}

func testConflictStaleRev(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	rev1, err := db.Put(ctx, "a", map[string]any{"v": 1})
	if err != nil {
		t.Fatal(err)
	}
	rev2, err := db.Put(ctx, "a", map[string]any{"_rev": rev1, "v": 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, "a", map[string]any{"_rev": rev1, "v": 3}); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("Put with a stale _rev: err = %v, want ErrConflict", err)
	}
	if _, err := db.Delete(ctx, "a", rev1); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("Delete with a stale rev: err = %v, want ErrConflict", err)
	}
	var got struct {
		V int `json:"v"`
	}
	if rev, err := db.Get(ctx, "a", &got); err != nil || rev != rev2 || got.V != 2 {
		t.Fatalf("after the conflicts: Get = %q %+v, %v; want %q v=2", rev, got, err, rev2)
	}
}

func testConflictMissingRev(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	rev1, err := db.Put(ctx, "a", map[string]any{"v": 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Put(ctx, "a", map[string]any{"v": 2})
	if !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("Put without _rev over an existing document: err = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), db.Name()) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %q does not name the database and the document", err)
	}
	var got struct {
		V int `json:"v"`
	}
	if rev, err := db.Get(ctx, "a", &got); err != nil || rev != rev1 || got.V != 1 {
		t.Fatalf("after the conflict: Get = %q %+v, %v; want %q v=1", rev, got, err, rev1)
	}
}

// doc is the document of the bulk and multi-document read tests: an id and a number.
type doc struct {
	ID string `json:"_id"`
	N  int    `json:"n"`
}

// counter is the document of the Update tests.
type counter struct {
	Count   int            `json:"count"`
	Writers map[string]int `json:"writers,omitempty"`
}

func testUpdateCreatesThenMerges(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	var sawFound []bool
	for range 3 {
		_, err := vault.Update(ctx, db, "counter", func(c *counter, found bool) error {
			sawFound = append(sawFound, found)
			c.Count += 10
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []bool{false, true, true}; !slices.Equal(sawFound, want) {
		t.Errorf("merge saw found = %v, want %v", sawFound, want)
	}
	var got map[string]any
	rev, err := db.Get(ctx, "counter", &got)
	if err != nil {
		t.Fatal(err)
	}
	if got["count"] != 30.0 || revGen(t, rev) != 3 {
		t.Fatalf("after 3 updates: %v at %q, want count 30 at 3-...", got, rev)
	}
}

func testUpdateConcurrentWriters(t *testing.T, s *suite) {
	ctx := context.Background()
	instance := vaulttest.Instance(t)
	// Two handles on the same store, as the connector and the app would be.
	first := OpenDB(t, s.store.Open(t, instance), testDoctype)
	second, err := s.store.Open(t, instance).DB(ctx, testDoctype)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*5)
	for w := range 8 {
		db := first
		if w%2 == 1 {
			db = second
		}
		name := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for range 5 {
				_, err := vault.Update(ctx, db, "shared", func(c *counter, _ bool) error {
					c.Count++
					if c.Writers == nil {
						c.Writers = map[string]int{}
					}
					c.Writers[name]++
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	var got counter
	rev, err := first.Get(ctx, "shared", &got)
	if err != nil {
		t.Fatal(err)
	}
	want := counter{Count: 40, Writers: map[string]int{"w0": 5, "w1": 5, "w2": 5, "w3": 5, "w4": 5, "w5": 5, "w6": 5, "w7": 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after 8 writers x 5 updates: %+v, want %+v (lost updates)", got, want)
	}
	if revGen(t, rev) != 40 {
		t.Errorf("revision %q, want 40-... (one per update)", rev)
	}
}

func testUpdateGivesUp(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := db.Put(ctx, "busy", map[string]any{"count": 0}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	// A short deadline: Update's own budget is long, for writers that really contend. Update
	// gives up before a pause that would pass the deadline, never during a request.
	within, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := vault.Update(within, db, "busy", func(c *counter, _ bool) error {
		calls++
		// Someone else writes the document between our read and our write.
		var cur map[string]any
		rev, err := db.Get(ctx, "busy", &cur)
		if err != nil {
			return err
		}
		if _, err := db.Put(ctx, "busy", map[string]any{"_rev": rev, "count": -1}); err != nil {
			return err
		}
		c.Count = 1000
		return nil
	})
	if !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("Update under constant conflicts: err = %v, want ErrConflict", err)
	}
	// The attempts counted are those that conflicted: when the deadline cuts an attempt after
	// it called merge (during its write), that one is not among them.
	var n int
	if _, scanErr := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "after ")+len("after "):], "%d attempts", &n); scanErr != nil ||
		n != calls && !(n == calls-1 && strings.Contains(err.Error(), "ran out of time")) {
		t.Errorf("error %q does not say how many attempts were made (%d merges)", err, calls)
	}
	var got counter
	if _, err := db.Get(ctx, "busy", &got); err != nil || got.Count != -1 {
		t.Errorf("after giving up: %+v, %v; want the other writer's count -1", got, err)
	}
}

func testUpdateMergeError(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	rev1, err := db.Put(ctx, "doc", map[string]any{"count": 1})
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused by merge")
	_, err = vault.Update(ctx, db, "doc", func(c *counter, _ bool) error {
		c.Count = 99
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Update: err = %v, want the merge's error", err)
	}
	var got counter
	if rev, err := db.Get(ctx, "doc", &got); err != nil || rev != rev1 || got.Count != 1 {
		t.Fatalf("after a failed merge: %+v at %q, %v; want count 1 at %q", got, rev, err, rev1)
	}
}

func testBulkPerDocumentResults(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	revB, err := db.Put(ctx, "b", map[string]any{"v": "old"})
	if err != nil {
		t.Fatal(err)
	}
	revD, err := db.Put(ctx, "d", map[string]any{"v": "old"})
	if err != nil {
		t.Fatal(err)
	}
	docs := []map[string]any{
		{"_id": "a", "v": "new"},
		{"_id": "b", "v": "no rev"}, // conflict: missing _rev
		{"_id": "c", "v": "new"},
		{"_id": "b", "_rev": "1-0123456789abcdef0123456789abcdef", "v": "stale"}, // conflict: stale _rev
		{"_id": "d", "_rev": revD, "_deleted": true},                             // deletion
	}
	results, err := vault.SaveMany(ctx, db, docs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 5 {
		t.Fatalf("%d results, want 5: %+v", len(results), results)
	}
	for i, want := range []string{"a", "b", "c", "b", "d"} {
		if results[i].ID != want {
			t.Errorf("result %d is for %q, want %q", i, results[i].ID, want)
		}
	}
	for i, gen := range map[int]int{0: 1, 2: 1, 4: 2} {
		if results[i].Err != nil || revGen(t, results[i].Rev) != gen {
			t.Errorf("result %d = %+v, want success at %d-...", i, results[i], gen)
		}
	}
	for _, i := range []int{1, 3} {
		if !errors.Is(results[i].Err, vault.ErrConflict) || results[i].Rev != "" {
			t.Errorf("result %d = %+v, want ErrConflict and no revision", i, results[i])
		}
	}
	var got struct {
		V string `json:"v"`
	}
	if rev, err := db.Get(ctx, "b", &got); err != nil || rev != revB || got.V != "old" {
		t.Errorf("b after the bulk = %+v at %q, %v; want unchanged", got, rev, err)
	}
	for _, id := range []string{"a", "c"} {
		if _, err := db.Get(ctx, id, &got); err != nil || got.V != "new" {
			t.Errorf("%s after the bulk = %+v, %v; want v=new", id, got, err)
		}
	}
	if _, err := db.Get(ctx, "d", &got); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("d after its deletion in the bulk: err = %v, want ErrNotFound", err)
	}
	if n, err := db.Count(ctx); err != nil || n != 3 {
		t.Errorf("Count = %d, %v; want 3 (a b c)", n, err)
	}
}

// testReservedIDs checks that ids starting with "_" (other than _design/ and
// _local/) are refused: by Put, and by _bulk_docs for the whole request, as
// CouchDB validates every document before writing any.
func testReservedIDs(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := db.Put(ctx, "_bad", map[string]any{"v": 1}); err == nil || errors.Is(err, vault.ErrConflict) {
		t.Errorf("Put of _bad: err = %v, want a rejection that is not a conflict", err)
	}
	docs := []map[string]any{{"_id": "ok1"}, {"_id": "ok2"}, {"_id": "ok3"}, {"_id": "_bad"}}
	results, err := vault.SaveMany(ctx, db, docs, 2)
	if err == nil {
		t.Fatalf("SaveMany with _bad in the second batch: no error, results %+v", results)
	}
	if len(results) != 2 || results[0].ID != "ok1" || results[1].ID != "ok2" {
		t.Errorf("results = %+v, want those of the first batch (ok1 ok2)", results)
	}
	if n, err := db.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2 (ok1 ok2, nothing of the refused batch)", n, err)
	}
}

func testBulkBatches(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	docs := []doc{{"k1", 1}, {"k2", 2}, {"k3", 3}, {"k4", 4}, {"k5", 5}}
	results, err := vault.SaveMany(ctx, db, docs, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range results {
		if r.Err != nil || revGen(t, r.Rev) != 1 {
			t.Errorf("result %+v, want success at 1-...", r)
		}
		ids = append(ids, r.ID)
	}
	if want := []string{"k1", "k2", "k3", "k4", "k5"}; !slices.Equal(ids, want) {
		t.Fatalf("result ids %q, want %q", ids, want)
	}
	// Documents without _id get one from the server.
	anon, err := vault.SaveMany(ctx, db, []map[string]any{{"n": 6}, {"n": 7}, {"n": 8}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(anon) != 3 || anon[0].ID == "" || anon[1].ID == "" || anon[2].ID == "" || anon[0].ID == anon[1].ID {
		t.Fatalf("results without _id = %+v, want 3 distinct server ids", anon)
	}
	if n, err := db.Count(ctx); err != nil || n != 8 {
		t.Errorf("Count = %d, %v; want 8", n, err)
	}
}

// mangoDocs are the documents of the Mango tests. n and nested.score are
// fractional and not in id order, so that a sort that falls back on ids fails.
const mangoDocs = `[
 {"_id":"m01","name":"alpha",   "n":2,   "mode":"BUS",       "tags":["a","b"],"nested":{"k":"x","score":1.25},"items":[{"mode":"BUS","km":2.5},{"mode":"WALKING","km":0.4}],"opt":true},
 {"_id":"m02","name":"bravo",   "n":0.5, "mode":"CAR",       "tags":["b"],    "nested":{"k":"y","score":2},   "items":[{"mode":"CAR","km":12.25}]},
 {"_id":"m03","name":"charlie", "n":3.25,"mode":"WALKING",   "tags":[],       "nested":{"k":"x","score":0.75},"items":[{"mode":"WALKING","km":1.5}],"opt":null},
 {"_id":"m04","name":"delta",   "n":1,   "mode":"BUS",       "tags":["c"],    "nested":{"k":"z","score":3.5}, "items":[{"mode":"WALKING","km":0.2},{"mode":"BUS","km":5}]},
 {"_id":"m05","name":"echo",    "n":3,   "mode":"BICYCLING", "tags":["a","c"],"nested":{"k":"y","score":1.25},"items":[{"mode":"BICYCLING","km":3.75}],"opt":"yes"},
 {"_id":"m06","name":"foxtrot", "n":1.5, "mode":"TRAIN",     "tags":["d"],    "nested":{"k":"x","score":-1},  "items":[{"mode":"WALKING","km":1.1},{"mode":"TRAIN","km":40}]},
 {"_id":"m07","name":"alphabet","n":2.5, "mode":"CAR",       "tags":["a"],    "nested":{"k":"w","score":0},   "items":[]}
]`

// mangoDB returns a database holding mangoDocs.
func mangoDB(t *testing.T, s *suite) *vault.DB {
	t.Helper()
	db := OpenDB(t, s.openVault(t), testDoctype)
	var docs []json.RawMessage
	if err := json.Unmarshal([]byte(mangoDocs), &docs); err != nil {
		t.Fatal(err)
	}
	results, err := vault.SaveMany(context.Background(), db, docs, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return db
}

func testMangoOperators(t *testing.T, s *suite) {
	db := mangoDB(t, s)
	for _, c := range []struct {
		name     string
		selector string
		want     []string
	}{
		{"$eq", `{"mode":{"$eq":"BUS"}}`, []string{"m01", "m04"}},
		{"implicit $eq nested", `{"nested.k":"x"}`, []string{"m01", "m03", "m06"}},
		{"$ne", `{"mode":{"$ne":"BUS"}}`, []string{"m02", "m03", "m05", "m06", "m07"}},
		{"$gt fractional", `{"n":{"$gt":1.5}}`, []string{"m01", "m03", "m05", "m07"}},
		{"$gte fractional", `{"n":{"$gte":1.5}}`, []string{"m01", "m03", "m05", "m06", "m07"}},
		{"$lt fractional", `{"n":{"$lt":1.5}}`, []string{"m02", "m04"}},
		{"$lte fractional", `{"n":{"$lte":1.5}}`, []string{"m02", "m04", "m06"}},
		{"$gt and $lt on one field", `{"n":{"$gt":1.5,"$lt":3}}`, []string{"m01", "m07"}},
		{"$gte nested fractional", `{"nested.score":{"$gte":1.25}}`, []string{"m01", "m02", "m04", "m05"}},
		{"$lt nested negative", `{"nested.score":{"$lt":0}}`, []string{"m06"}},
		{"$gt string", `{"name":{"$gt":"delta"}}`, []string{"m05", "m06"}},
		{"$in", `{"mode":{"$in":["CAR","TRAIN"]}}`, []string{"m02", "m06", "m07"}},
		{"$nin", `{"mode":{"$nin":["BUS","CAR","WALKING"]}}`, []string{"m05", "m06"}},
		{"$and", `{"$and":[{"mode":"BUS"},{"n":{"$gt":1}}]}`, []string{"m01"}},
		{"$or", `{"$or":[{"mode":"TRAIN"},{"nested.k":"z"}]}`, []string{"m04", "m06"}},
		{"$not", `{"$not":{"n":{"$lt":2}}}`, []string{"m01", "m03", "m05", "m07"}},
		{"$not with a field", `{"mode":"CAR","$not":{"name":{"$regex":"^alpha"}}}`, []string{"m02"}},
		{"$exists true", `{"opt":{"$exists":true}}`, []string{"m01", "m03", "m05"}},
		{"$exists false", `{"opt":{"$exists":false}}`, []string{"m02", "m04", "m06", "m07"}},
		{"$elemMatch objects", `{"items":{"$elemMatch":{"mode":"WALKING","km":{"$gt":1}}}}`, []string{"m03", "m06"}},
		{"$elemMatch scalars", `{"tags":{"$elemMatch":{"$eq":"c"}}}`, []string{"m04", "m05"}},
		{"$regex prefix", `{"name":{"$regex":"^alpha"}}`, []string{"m01", "m07"}},
		{"$regex suffix", `{"name":{"$regex":"o$"}}`, []string{"m02", "m05"}},
		{"no match", `{"mode":"PLANE"}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sorted(FindIDs(t, db, vault.Query{Selector: json.RawMessage(c.selector)}))
			if !slices.Equal(got, c.want) {
				t.Fatalf("Find(%s) = %q, want %q", c.selector, got, c.want)
			}
		})
	}
}

func testSortWithIndex(t *testing.T, s *suite) {
	ctx := context.Background()
	db := mangoDB(t, s)
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-n", Fields: []string{"n"}}); err != nil {
		t.Fatal(err)
	}
	selector := json.RawMessage(`{"n":{"$gte":0}}`)
	asc := []string{"m02", "m04", "m06", "m01", "m07", "m05", "m03"} // 0.5 1 1.5 2 2.5 3 3.25
	if got := FindIDs(t, db, vault.Query{Selector: selector, Sort: []vault.SortField{vault.Asc("n")}}); !slices.Equal(got, asc) {
		t.Errorf("ascending: %q, want %q", got, asc)
	}
	desc := []string{"m03", "m05", "m07", "m01", "m06", "m04", "m02"}
	if got := FindIDs(t, db, vault.Query{Selector: selector, Sort: []vault.SortField{vault.Desc("n")}}); !slices.Equal(got, desc) {
		t.Errorf("descending: %q, want %q", got, desc)
	}
	if got := FindIDs(t, db, vault.Query{Selector: selector, Sort: []vault.SortField{vault.Desc("n")}, UseIndex: "by-n", Limit: 3}); !slices.Equal(got, desc[:3]) {
		t.Errorf("descending, use_index, limit 3: %q, want %q", got, desc[:3])
	}
}

func testPagingExclusiveRange(t *testing.T, s *suite) {
	ctx := context.Background()
	db := mangoDB(t, s)
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-n", Fields: []string{"n"}}); err != nil {
		t.Fatal(err)
	}
	selector := json.RawMessage(`{"n":{"$gt":1,"$lt":3}}`) // m04 has n=1 exactly, m05 n=3
	if got := FindIDs(t, db, vault.Query{Selector: selector, Sort: []vault.SortField{vault.Asc("n")}, PageSize: 2}); !slices.Equal(got, []string{"m06", "m01", "m07"}) {
		t.Errorf("ascending, pages of 2: %q, want [m06 m01 m07]", got)
	}
	if got := FindIDs(t, db, vault.Query{Selector: selector, Sort: []vault.SortField{vault.Desc("n")}, PageSize: 2}); !slices.Equal(got, []string{"m07", "m01", "m06"}) {
		t.Errorf("descending, pages of 2: %q, want [m07 m01 m06]", got)
	}
}

func testFieldsProjection(t *testing.T, s *suite) {
	db := mangoDB(t, s)
	docs, err := vault.FindAll[map[string]any](context.Background(), db, vault.Query{
		Selector: map[string]any{"mode": "BUS"},
		Fields:   []string{"_id", "name", "nested.score"},
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(docs, func(a, b map[string]any) int { return strings.Compare(a["_id"].(string), b["_id"].(string)) })
	want := []map[string]any{
		{"_id": "m01", "name": "alpha", "nested": map[string]any{"score": 1.25}},
		{"_id": "m04", "name": "delta", "nested": map[string]any{"score": 3.5}},
	}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("projection = %v, want %v", docs, want)
	}
}

func testPagingOverThousand(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	const total = 1234
	docs := make([]map[string]any, total)
	for i := range docs {
		docs[i] = map[string]any{"_id": fmt.Sprintf("p%04d", i), "i": i, "group": i % 3}
	}
	results, err := vault.SaveMany(ctx, db, docs, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != total {
		t.Fatalf("%d results, want %d", len(results), total)
	}
	for i, r := range results {
		if r.Err != nil || r.ID != fmt.Sprintf("p%04d", i) {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-i", Fields: []string{"i"}}); err != nil {
		t.Fatal(err)
	}
	// checkAll checks that ids are p0000...p1233, each exactly once, in
	// order when ordered is set.
	checkAll := func(t *testing.T, ids []string, ordered, descending bool) {
		t.Helper()
		if len(ids) != total {
			t.Fatalf("%d documents, want %d", len(ids), total)
		}
		seen := map[string]int{}
		for pos, id := range ids {
			if seen[id]++; seen[id] > 1 {
				t.Fatalf("%s returned twice", id)
			}
			want := fmt.Sprintf("p%04d", pos)
			if descending {
				want = fmt.Sprintf("p%04d", total-1-pos)
			}
			if ordered && id != want {
				t.Fatalf("position %d holds %s, want %s", pos, id, want)
			}
		}
		for i := range total {
			if seen[fmt.Sprintf("p%04d", i)] != 1 {
				t.Fatalf("p%04d missing", i)
			}
		}
	}
	t.Run("sorted default pages", func(t *testing.T) {
		ids := FindIDs(t, db, vault.Query{Selector: map[string]any{"i": map[string]any{"$gte": 0}}, Sort: []vault.SortField{vault.Asc("i")}})
		checkAll(t, ids, true, false)
	})
	t.Run("sorted descending pages of 500", func(t *testing.T) {
		ids := FindIDs(t, db, vault.Query{Selector: map[string]any{"i": map[string]any{"$gte": 0}}, Sort: []vault.SortField{vault.Desc("i")}, PageSize: 500})
		checkAll(t, ids, true, true)
	})
	t.Run("unsorted pages of 300", func(t *testing.T) {
		s.skipIfKnown(t)
		ids := FindIDs(t, db, vault.Query{PageSize: 300})
		checkAll(t, ids, false, false)
	})
	t.Run("selective pages of 100", func(t *testing.T) {
		ids := FindIDs(t, db, vault.Query{Selector: map[string]any{"group": 1}, PageSize: 100})
		if len(ids) != 411 { // i = 1, 4, ..., 1231
			t.Fatalf("%d documents, want 411", len(ids))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			var i int
			fmt.Sscanf(id, "p%04d", &i)
			if i%3 != 1 || seen[id] {
				t.Fatalf("unexpected or repeated %s", id)
			}
			seen[id] = true
		}
	})
	t.Run("limit across pages", func(t *testing.T) {
		ids := FindIDs(t, db, vault.Query{Selector: map[string]any{"i": map[string]any{"$gte": 0}}, Sort: []vault.SortField{vault.Asc("i")}, PageSize: 40, Limit: 100})
		if len(ids) != 100 || ids[0] != "p0000" || ids[99] != "p0099" {
			t.Fatalf("%d documents from %v, want p0000..p0099", len(ids), ids[:min(3, len(ids))])
		}
	})
}

func testChanges(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	revs := map[string]string{}
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("c%d", i)
		rev, err := db.Put(ctx, id, map[string]any{"v": i})
		if err != nil {
			t.Fatal(err)
		}
		revs[id] = rev
	}
	ids := func(changes []vault.Change) []string {
		var out []string
		for _, c := range changes {
			out = append(out, c.ID)
		}
		return out
	}
	all, seqAll, err := db.Changes(ctx, vault.ChangesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c1", "c2", "c3", "c4", "c5"}; !slices.Equal(ids(all), want) || seqAll == "" {
		t.Fatalf("all changes = %q, last seq %q; want %q and a sequence", ids(all), seqAll, want)
	}
	for _, c := range all {
		if c.Rev != revs[c.ID] || c.Deleted || c.Doc != nil || c.Seq == "" {
			t.Errorf("change %+v, want rev %s, not deleted, no doc, a seq", c, revs[c.ID])
		}
	}
	first, seq2, err := db.Changes(ctx, vault.ChangesQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c1", "c2"}; !slices.Equal(ids(first), want) {
		t.Fatalf("limit 2 = %q, want %q", ids(first), want)
	}
	rest, seq3, err := db.Changes(ctx, vault.ChangesQuery{Since: seq2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c3", "c4", "c5"}; !slices.Equal(ids(rest), want) {
		t.Fatalf("since the limit-2 page = %q, want %q", ids(rest), want)
	}
	none, seqNone, err := db.Changes(ctx, vault.ChangesQuery{Since: seq3})
	if err != nil || len(none) != 0 || seqNone == "" {
		t.Fatalf("since the end = %q, %q, %v; want nothing and a sequence", ids(none), seqNone, err)
	}
	withDoc, _, err := db.Changes(ctx, vault.ChangesQuery{Limit: 1, IncludeDocs: true})
	if err != nil || len(withDoc) != 1 {
		t.Fatalf("include_docs = %+v, %v", withDoc, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(withDoc[0].Doc, &doc); err != nil || doc["_id"] != "c1" || doc["v"] != 1.0 || doc["_rev"] != revs["c1"] {
		t.Fatalf("include_docs doc = %s, want c1 with v=1", withDoc[0].Doc)
	}
	// An update then a deletion: each document appears once, at its latest change.
	if _, err := db.Put(ctx, "c2", map[string]any{"_rev": revs["c2"], "v": 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, "c1", revs["c1"]); err != nil {
		t.Fatal(err)
	}
	later, _, err := db.Changes(ctx, vault.ChangesQuery{Since: seq3, IncludeDocs: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c2", "c1"}; !slices.Equal(ids(later), want) {
		t.Fatalf("after update and delete = %q, want %q", ids(later), want)
	}
	if c := later[0]; c.Deleted || revGen(t, c.Rev) != 2 || !strings.Contains(string(c.Doc), `"v":20`) {
		t.Errorf("update change = %+v (doc %s), want rev 2-..., v=20", c, c.Doc)
	}
	if c := later[1]; !c.Deleted || revGen(t, c.Rev) != 2 || !strings.Contains(string(c.Doc), `"_deleted":true`) {
		t.Errorf("delete change = %+v (doc %s), want deleted at 2-... with a tombstone", c, c.Doc)
	}
	again, _, err := db.Changes(ctx, vault.ChangesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c3", "c4", "c5", "c2", "c1"}; !slices.Equal(ids(again), want) {
		t.Fatalf("whole feed = %q, want %q", ids(again), want)
	}
}

func testLocalDocuments(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	type checkpoint struct {
		Since string `json:"since"`
		Runs  int    `json:"runs"`
	}
	var cp checkpoint
	if err := db.GetLocal(ctx, "sync", &cp); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("GetLocal of a missing checkpoint: err = %v, want ErrNotFound", err)
	}
	if err := db.PutLocal(ctx, "sync", checkpoint{Since: "12-abc", Runs: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLocal(ctx, "_local/sync", checkpoint{Since: "57-def", Runs: 2}); err != nil {
		t.Fatalf("PutLocal over an existing checkpoint: %v", err)
	}
	if err := db.GetLocal(ctx, "sync", &cp); err != nil || cp != (checkpoint{Since: "57-def", Runs: 2}) {
		t.Fatalf("GetLocal = %+v, %v; want the second checkpoint", cp, err)
	}
	// _local documents are not documents: not counted, queried or in the feed.
	if _, err := db.Put(ctx, "real", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	if ids := FindIDs(t, db, vault.Query{}); !slices.Equal(ids, []string{"real"}) {
		t.Errorf("Find = %q, want [real]", ids)
	}
	changes, _, err := db.Changes(ctx, vault.ChangesQuery{})
	if err != nil || len(changes) != 1 || changes[0].ID != "real" {
		t.Errorf("Changes = %+v, %v; want only real", changes, err)
	}
}

// testLocalDocumentReplaced: a _local document is replaced again and again, large or small, in a
// database that exists (as a Cozy stack has it once a doctype has a document).
func testLocalDocumentReplaced(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := db.Put(ctx, "real", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	type blob struct {
		N   int    `json:"n"`
		Pad string `json:"pad"`
	}
	for n := range 4 {
		if err := db.PutLocal(ctx, "cache", blob{N: n, Pad: strings.Repeat("x", n*100_000)}); err != nil {
			t.Fatalf("PutLocal #%d: %v", n, err)
		}
	}
	var got blob
	if err := db.GetLocal(ctx, "cache", &got); err != nil || got.N != 3 || len(got.Pad) != 300_000 {
		t.Fatalf("GetLocal = #%d (%d bytes), %v; want the last", got.N, len(got.Pad), err)
	}
	// A document that encodes itself, as the figures cache's do.
	for n := range 3 {
		if err := db.PutLocal(ctx, "cache", rawDoc(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, 10+n, strings.Repeat("y", n)))); err != nil {
			t.Fatalf("PutLocal of a json.Marshaler #%d: %v", n, err)
		}
	}
	if err := db.GetLocal(ctx, "cache", &got); err != nil || got.N != 12 || got.Pad != "yy" {
		t.Fatalf("GetLocal = %+v, %v; want the last json.Marshaler's", got, err)
	}
}

// testLocalDocumentWrittenElsewhere: PutLocal replaces a _local document whatever revision its
// handle last saw of it: one another process wrote since, one it found missing that is there
// now, or none.
func testLocalDocumentWrittenElsewhere(t *testing.T, s *suite) {
	ctx := context.Background()
	instance := vaulttest.Instance(t)
	ours := OpenDB(t, s.store.Open(t, instance), testDoctype)
	theirs, err := s.store.Open(t, instance).DB(ctx, testDoctype)
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		By string `json:"by"`
		N  int    `json:"n"`
	}
	var got doc
	step := 0
	put := func(db *vault.DB, by string) {
		t.Helper()
		step++
		if err := db.PutLocal(ctx, "cp", doc{by, step}); err != nil {
			t.Fatalf("step %d, PutLocal by %s: %v", step, by, err)
		}
		for _, reader := range []*vault.DB{ours, theirs} {
			if err := reader.GetLocal(ctx, "cp", &got); err != nil || got != (doc{by, step}) {
				t.Fatalf("step %d: GetLocal = %+v, %v; want %s's #%d", step, got, err, by, step)
			}
		}
	}
	// The database exists, as a Cozy stack has it once a doctype has a document.
	if _, err := ours.Put(ctx, "real", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	// Found missing by ours, then written by theirs.
	if err := ours.GetLocal(ctx, "cp", &got); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("GetLocal of a missing document: %v", err)
	}
	if err := theirs.PutLocal(ctx, "cp", doc{"theirs", 0}); err != nil {
		t.Fatal(err)
	}
	put(ours, "ours")
	// Each replaces the other's write, at a revision it has not seen.
	put(theirs, "theirs")
	put(ours, "ours")
	put(ours, "ours")
	put(theirs, "theirs")
	// Never read nor written by a new handle.
	fresh, err := s.store.Open(t, instance).DB(ctx, testDoctype)
	if err != nil {
		t.Fatal(err)
	}
	put(fresh, "fresh")
}

// rawDoc is a document that encodes itself.
type rawDoc string

func (d rawDoc) MarshalJSON() ([]byte, error) { return []byte(d), nil }

func testIndexesIdempotentAndHidden(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := db.Put(ctx, "d1", map[string]any{"a": 1, "b": 2, "c": 3}); err != nil {
		t.Fatal(err)
	}
	type idx struct {
		Name   string
		Fields []string
	}
	list := func() []idx {
		t.Helper()
		got, err := db.Indexes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []idx
		for _, i := range got {
			out = append(out, idx{i.Name, i.Fields})
		}
		slices.SortFunc(out, func(x, y idx) int { return strings.Compare(x.Name, y.Name) })
		return out
	}
	ensure := []vault.Index{{Name: "by-a", Fields: []string{"a"}}, {Name: "by-b-c", Fields: []string{"b", "c"}}}
	want := []idx{{"by-a", []string{"a"}}, {"by-b-c", []string{"b", "c"}}}
	for round := 1; round <= 2; round++ {
		if err := db.EnsureIndexes(ctx, ensure...); err != nil {
			t.Fatal(err)
		}
		if got := list(); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: indexes %v, want %v", round, got, want)
		}
	}
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-a", Fields: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), []idx{{"by-a", []string{"c"}}, {"by-b-c", []string{"b", "c"}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after redefining by-a: %v, want %v", got, want)
	}
	// Indexes are no documents: not counted, queried, or in the feed.
	if n, err := db.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	if ids := FindIDs(t, db, vault.Query{}); !slices.Equal(ids, []string{"d1"}) {
		t.Errorf("Find = %q, want [d1]", ids)
	}
	for _, limit := range []int{0, 1} {
		changes, _, err := db.Changes(ctx, vault.ChangesQuery{Limit: limit})
		if err != nil || len(changes) != 1 || changes[0].ID != "d1" {
			t.Errorf("Changes(limit %d) = %+v, %v; want only d1", limit, changes, err)
		}
	}
}

func testGetMany(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := vault.SaveMany(ctx, db, []doc{{"a", 1}, {"b", 2}, {"c", 3}}, 0); err != nil {
		t.Fatal(err)
	}
	rev, _ := db.Get(ctx, "b", &doc{})
	if _, err := db.Delete(ctx, "b", rev); err != nil {
		t.Fatal(err)
	}
	got, err := vault.GetMany[doc](ctx, db, []string{"c", "missing", "b", "a"})
	if err != nil || len(got) != 2 || got[0].ID != "c" || got[0].N != 3 || got[1].ID != "a" {
		t.Fatalf("GetMany = %+v, %v; want c then a (missing and deleted left out)", got, err)
	}
}

func testRevs(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	res, err := vault.SaveMany(ctx, db, []doc{{"a", 1}, {"b", 2}, {"c", 3}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, "b", res[1].Rev); err != nil {
		t.Fatal(err)
	}
	newRev, err := db.Put(ctx, "c", map[string]any{"_rev": res[2].Rev, "n": 4})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Revs(ctx, []string{"c", "missing", "b", "a"})
	want := map[string]string{"a": res[0].Rev, "c": newRev}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("Revs = %v, %v; want %v (missing and deleted left out)", got, err, want)
	}
}

// testLeaseTakenInTurns: PutLeaseIf writes only over the revision it is given, and creates only
// a lease that does not exist, so that two processes cannot both take it; a lease is not a
// document of the doctype: no query, count or changes feed shows it.
func testLeaseTakenInTurns(t *testing.T, s *suite) {
	ctx := context.Background()
	db := OpenDB(t, s.openVault(t), testDoctype)
	if _, err := db.Put(ctx, "real", map[string]any{"x": 1}); err != nil {
		t.Fatal(err)
	}
	_, since, err := db.Changes(ctx, vault.ChangesQuery{Since: "now"})
	if err != nil {
		t.Fatal(err)
	}
	type lease struct {
		Owner string `json:"owner"`
	}
	var got lease
	if _, err := db.GetLease(ctx, "lock", &got); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("GetLease of a lease never written: err = %v, want ErrNotFound", err)
	}
	rev, err := db.PutLeaseIf(ctx, "lock", "", lease{"a"})
	if err != nil {
		t.Fatalf("PutLeaseIf creating: %v", err)
	}
	if _, err := db.PutLeaseIf(ctx, "lock", "", lease{"b"}); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("PutLeaseIf creating over an existing lease: err = %v, want ErrConflict", err)
	}
	if r, err := db.GetLease(ctx, "lock", &got); err != nil || r != rev || got.Owner != "a" {
		t.Fatalf("GetLease = %+v %q, %v; want a at %q", got, r, err, rev)
	}
	next, err := db.PutLeaseIf(ctx, "lock", rev, lease{"c"})
	if err != nil || next == rev {
		t.Fatalf("PutLeaseIf at the current revision = %q, %v; want a new revision", next, err)
	}
	if _, err := db.PutLeaseIf(ctx, "lock", rev, lease{"d"}); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("PutLeaseIf at a stale revision: err = %v, want ErrConflict", err)
	}
	if _, err := db.GetLease(ctx, "lock", &got); err != nil || got.Owner != "c" {
		t.Fatalf("GetLease = %+v, %v; want c", got, err)
	}
	if n, err := db.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1: a lease is no document", n, err)
	}
	if ids := FindIDs(t, db, vault.Query{Selector: map[string]any{"owner": "c"}}); len(ids) != 0 {
		t.Errorf("Find = %q: a lease is no document", ids)
	}
	if changes, _, err := db.Changes(ctx, vault.ChangesQuery{Since: since}); err != nil || len(changes) != 0 {
		t.Errorf("Changes = %+v, %v; want none: a lease is no document", changes, err)
	}
}
