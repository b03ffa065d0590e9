package sqlitecouch_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-kivik/kivik/v4"
)

// TestAllDocsTotalRowsFollowsWrites: _all_docs's total_rows, which the store keeps rather than
// counts, is the number of live documents after creations, updates, deletions, recreations and
// bulk writes, and is each database's own.
func TestAllDocsTotalRowsFollowsWrites(t *testing.T) {
	ctx := context.Background()
	client, db := newDB(t, "")
	if err := client.CreateDB(ctx, "alice/io-cozy-other"); err != nil {
		t.Fatal(err)
	}
	other := client.DB("alice/io-cozy-other")
	if _, err := other.Put(ctx, "x", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want int64) {
		t.Helper()
		for _, opts := range []kivik.Option{nil, kivik.Param("keys", []string{"a", "zz"})} {
			rows := db.AllDocs(ctx, opts)
			for rows.Next() {
			}
			meta, err := rows.Metadata()
			if err != nil || meta.TotalRows != want {
				t.Fatalf("%s: total_rows %v, %v; want %d", when, meta, err, want)
			}
		}
	}
	check("empty", 0)
	revs := map[string]string{}
	for i := range 5 {
		id := fmt.Sprintf("d%d", i)
		rev, err := db.Put(ctx, id, map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		revs[id] = rev
	}
	check("5 created", 5)
	rev, err := db.Put(ctx, "d0", map[string]any{"_rev": revs["d0"], "n": 10})
	if err != nil {
		t.Fatal(err)
	}
	check("one updated", 5)
	if _, err := db.Delete(ctx, "d0", rev); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, "d1", revs["d1"]); err != nil {
		t.Fatal(err)
	}
	check("two deleted", 3)
	if _, err := db.Put(ctx, "d0", map[string]any{"n": 0}); err != nil {
		t.Fatal(err)
	}
	check("one recreated", 4)
	_, err = db.BulkDocs(ctx, []any{
		map[string]any{"_id": "b1"}, map[string]any{"_id": "b2"},
		map[string]any{"_id": "d2", "_rev": revs["d2"], "_deleted": true},
		map[string]any{"_id": "d3", "_rev": "1-stale"},   // a conflict writes nothing
		map[string]any{"_id": "never", "_deleted": true}, // created deleted: no live document
	})
	if err != nil {
		t.Fatal(err)
	}
	check("after a bulk write", 5)
	if _, err := db.Put(ctx, "_local/x", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	check("after a _local write", 5)
}
