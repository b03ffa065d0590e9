package vault_test

import (
	"net/http"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// TestPutLocalRequests: on a server, PutLocal writes in one request what its handle knows the
// revision of, and a new document; it reads the revision only when the document changed or was
// there unknown to it. The figures cache's months are written this way, a few at every batch a
// sync writes.
func TestPutLocalRequests(t *testing.T) {
	ctx := t.Context()
	instance := vaulttest.Instance(t)
	open := func() (*vault.DB, *countingTransport) {
		rt := &countingTransport{base: http.DefaultTransport}
		v, err := vault.Open(ctx, couch.URL(t), instance, vault.WithTransport(rt))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = v.DestroyDB(ctx, vault.DoctypeTrips) // the server outlives the test
			_ = v.Close()
		})
		db, err := v.DB(ctx, vault.DoctypeTrips)
		if err != nil {
			t.Fatal(err)
		}
		return db, rt
	}
	ours, rt := open()
	theirs, _ := open()
	requests := func(what string, most int, f func() error) {
		t.Helper()
		before := rt.n.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := rt.n.Load() - before; n > int64(most) {
			t.Errorf("%s: %d requests, want %d at most", what, n, most)
		}
	}
	put := func(db *vault.DB, n int) func() error {
		return func() error { return db.PutLocal(ctx, "cp", map[string]int{"n": n}) }
	}
	requests("a new document", 1, put(ours, 1))
	requests("over its own write", 1, put(ours, 2))
	requests("over its own write again", 1, put(ours, 3))
	var got struct{ N int }
	requests("a read", 1, func() error { return theirs.GetLocal(ctx, "cp", &got) })
	if err := theirs.PutLocal(ctx, "cp", map[string]int{"n": 4}); err != nil {
		t.Fatal(err)
	}
	// Ours is stale now: PouchDB refuses the write (CouchDB 3 takes it), and ours reads the
	// revision and writes again.
	requests("over another's write", 3, put(ours, 5))
	requests("over its own write after that", 1, put(ours, 6))
	if err := theirs.GetLocal(ctx, "cp", &got); err != nil || got.N != 6 {
		t.Fatalf("GetLocal = %v, %v; want n 6", got, err)
	}
}
