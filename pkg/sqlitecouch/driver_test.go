package sqlitecouch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-kivik/kivik/v4"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// These tests cover what only the embedded driver has (files, processes, plans); the behaviour
// both backends share is proven by the vault conformance suite in pkg/vault.

func newDB(t *testing.T, path string) (*kivik.Client, *kivik.DB) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "vault.db")
	}
	client, err := kivik.New(sqlitecouch.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	if err := client.CreateDB(ctx, "alice/io-cozy-test"); err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
		t.Fatal(err)
	}
	return client, client.DB("alice/io-cozy-test")
}

func TestRevisionsAndTombstones(t *testing.T) {
	ctx := context.Background()
	_, db := newDB(t, "")
	rev1, err := db.Put(ctx, "trip", map[string]any{"km": 3})
	if err != nil || !strings.HasPrefix(rev1, "1-") || len(rev1) != 34 {
		t.Fatalf("first put: rev %q, %v; want 1-<32 hex>", rev1, err)
	}
	if _, err := db.Put(ctx, "trip", map[string]any{"km": 4}); kivik.HTTPStatus(err) != http.StatusConflict {
		t.Fatalf("put without _rev over an existing doc: %v, want 409", err)
	}
	rev2, err := db.Put(ctx, "trip", map[string]any{"_rev": rev1, "km": 4})
	if err != nil || !strings.HasPrefix(rev2, "2-") {
		t.Fatalf("update: %q, %v", rev2, err)
	}
	if _, err := db.Put(ctx, "trip", map[string]any{"_rev": rev1, "km": 5}); kivik.HTTPStatus(err) != http.StatusConflict {
		t.Fatalf("stale _rev: %v, want 409", err)
	}
	if _, err := db.Put(ctx, "nothing", map[string]any{"_rev": rev1}); kivik.HTTPStatus(err) != http.StatusConflict {
		t.Fatalf("_rev on a missing doc: %v, want 409", err)
	}
	if _, err := db.Delete(ctx, "trip", rev1); kivik.HTTPStatus(err) != http.StatusConflict {
		t.Fatalf("delete with a stale rev: %v, want 409", err)
	}
	rev3, err := db.Delete(ctx, "trip", rev2)
	if err != nil || !strings.HasPrefix(rev3, "3-") {
		t.Fatalf("delete: %q, %v", rev3, err)
	}
	if err := db.Get(ctx, "trip").Err(); kivik.HTTPStatus(err) != http.StatusNotFound {
		t.Fatalf("get after delete: %v, want 404", err)
	}
	// The tombstone keeps the history going: a new write continues from its generation.
	rev4, err := db.Put(ctx, "trip", map[string]any{"km": 6})
	if err != nil || !strings.HasPrefix(rev4, "4-") {
		t.Fatalf("recreate after delete: %q, %v", rev4, err)
	}
	var got map[string]any
	if err := db.Get(ctx, "trip").ScanDoc(&got); err != nil || got["km"] != 6.0 || got["_rev"] != rev4 {
		t.Fatalf("get: %v, %v", got, err)
	}
	if _, err := db.Put(ctx, "bad", map[string]any{"_foo": 1}); kivik.HTTPStatus(err) != http.StatusBadRequest {
		t.Fatalf("unknown special member: %v, want 400", err)
	}
	if _, err := db.Put(ctx, "other", map[string]any{"_id": "different"}); kivik.HTTPStatus(err) != http.StatusBadRequest {
		t.Fatalf("mismatched _id: %v, want 400", err)
	}
}

func TestMissingDatabaseAndNames(t *testing.T) {
	ctx := context.Background()
	client, _ := newDB(t, "")
	if err := client.DB("nope").Get(ctx, "x").Err(); kivik.HTTPStatus(err) != http.StatusNotFound {
		t.Fatalf("get in a missing database: %v, want 404", err)
	}
	if _, err := client.DB("nope").Put(ctx, "x", map[string]any{}); kivik.HTTPStatus(err) != http.StatusNotFound {
		t.Fatalf("put in a missing database: %v, want 404", err)
	}
	for _, bad := range []string{"Alice", "1abc", "a b", "", "a.b"} {
		if err := client.CreateDB(ctx, bad); kivik.HTTPStatus(err) != http.StatusBadRequest {
			t.Errorf("CreateDB(%q): %v, want 400", bad, err)
		}
	}
	if err := client.CreateDB(ctx, "alice/io-cozy-test"); kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
		t.Fatalf("create an existing database: %v, want 412", err)
	}
	if err := client.DestroyDB(ctx, "alice/io-cozy-test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := client.DBExists(ctx, "alice/io-cozy-test"); ok || err != nil {
		t.Fatalf("exists after destroy: %v, %v", ok, err)
	}
	if err := client.DestroyDB(ctx, "alice/io-cozy-test"); kivik.HTTPStatus(err) != http.StatusNotFound {
		t.Fatalf("destroy twice: %v, want 404", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("this is not sqlite ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := kivik.New(sqlitecouch.DriverName, corrupt)
	if err == nil || !strings.Contains(err.Error(), corrupt) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt file: %v; want an error naming the file and the cause", err)
	}
	missingDir := filepath.Join(dir, "no-such-dir", "vault.db")
	if _, err := kivik.New(sqlitecouch.DriverName, missingDir); err == nil || !strings.Contains(err.Error(), missingDir) {
		t.Fatalf("missing directory: %v; want an error naming the file", err)
	}
}

// TestFindReadsOnlyTheIndexRange proves that a selective query with an index does not read the
// whole database: the plan names the index, and results equal a full scan's.
func TestFindUsesIndexRange(t *testing.T) {
	ctx := context.Background()
	_, db := newDB(t, "")
	docs := make([]any, 0, 3000)
	for i := range 3000 {
		docs = append(docs, map[string]any{"_id": fmt.Sprintf("t%05d", i), "start": float64(i) / 3, "device": fmt.Sprintf("d%d", i%3)})
	}
	if _, err := db.BulkDocs(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateIndex(ctx, "", "by-start", map[string]any{"fields": []string{"start"}}); err != nil {
		t.Fatal(err)
	}
	query := map[string]any{"selector": map[string]any{"start": map[string]any{"$gt": 100.2, "$lte": 110}}, "sort": []string{"start"}, "limit": 1000}
	plan, err := db.Explain(ctx, query)
	if err != nil || plan.Index["name"] != "by-start" {
		t.Fatalf("plan: %v, %v; want the by-start index", plan, err)
	}
	rs := db.Find(ctx, query)
	var ids []string
	for rs.Next() {
		id, _ := rs.ID()
		ids = append(ids, id)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	// start = i/3 in (100.2, 110]  <=>  i in [301, 330]
	if len(ids) != 30 || ids[0] != "t00301" || ids[29] != "t00330" {
		t.Fatalf("got %d ids %v..., want t00301..t00330", len(ids), ids[:min(3, len(ids))])
	}
}

// TestTwoProcesses writes from this process and a child process at once: every write lands.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv("SQLITECOUCH_CHILD") != "" {
		return
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	_, db := newDB(t, path)
	cmd := exec.Command(os.Args[0], "-test.run", "^TestChildWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SQLITECOUCH_CHILD="+path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 200 {
		if _, err := db.Put(ctx, fmt.Sprintf("parent-%03d", i), map[string]any{"i": i}); err != nil {
			t.Fatalf("parent write %d: %v", i, err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	rs := db.AllDocs(ctx)
	n := 0
	for rs.Next() {
		n++
	}
	if n != 400 {
		t.Fatalf("%d documents after two writers of 200, want 400\n%s", n, out.String())
	}
	ch := db.Changes(ctx)
	seqs := map[string]bool{}
	for ch.Next() {
		if seqs[ch.Seq()] {
			t.Fatalf("sequence %s given twice", ch.Seq())
		}
		seqs[ch.Seq()] = true
	}
	if len(seqs) != 400 {
		t.Fatalf("%d changes, want 400", len(seqs))
	}
}

func TestChildWriter(t *testing.T) {
	path := os.Getenv("SQLITECOUCH_CHILD")
	if path == "" {
		t.Skip("runs as the second process of TestTwoProcesses")
	}
	client, err := kivik.New(sqlitecouch.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	db := client.DB("alice/io-cozy-test")
	for i := range 200 {
		if _, err := db.Put(context.Background(), fmt.Sprintf("child-%03d", i), map[string]any{"i": i}); err != nil {
			t.Fatalf("child write %d: %v", i, err)
		}
	}
}

// TestConcurrentGoroutines: many goroutines updating the same document with retries on 409 lose
// no increment.
func TestConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	_, db := newDB(t, "")
	if _, err := db.Put(ctx, "counter", map[string]any{"n": 0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				for {
					var doc map[string]any
					if err := db.Get(ctx, "counter").ScanDoc(&doc); err != nil {
						errs <- err
						return
					}
					doc["n"] = doc["n"].(float64) + 1
					_, err := db.Put(ctx, "counter", doc)
					if err == nil {
						break
					}
					if kivik.HTTPStatus(err) != http.StatusConflict {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := db.Get(ctx, "counter").ScanDoc(&doc); err != nil || doc["n"] != 200.0 {
		t.Fatalf("counter = %v (%v), want 200", doc["n"], err)
	}
}

func TestErrorsAreCouchDBStyle(t *testing.T) {
	var ce *sqlitecouch.Error
	_, db := newDB(t, "")
	err := db.Get(context.Background(), "missing").Err()
	if !errors.As(err, &ce) || ce.Name != "not_found" {
		t.Fatalf("%v: want a *sqlitecouch.Error not_found", err)
	}
}

// TestOpenChecksIntegrity: a file whose pages are damaged is refused when it opens, with an
// error matching ErrDamaged, even when the damaged pages are ones an operation may never read.
func TestOpenChecksIntegrity(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vault.db")
	client, db := newDB(t, path)
	for i := range 200 {
		if _, err := db.Put(ctx, fmt.Sprintf("trip-%03d", i), map[string]any{"captureDevice": "phone", "pad": strings.Repeat("x", 500)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	vaulttest.Damage(t, path, `"captureDevice":`)
	_, err := sqlitecouch.Open(ctx, path)
	if !errors.Is(err, sqlitecouch.ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "integrity check") {
		t.Fatalf("open a damaged file: %v, want ErrDamaged naming the file", err)
	}
}
