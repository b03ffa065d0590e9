package sqlitecouch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-kivik/kivik/v4/driver"
)

func openTestDB(t *testing.T) *db {
	t.Helper()
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(t.TempDir(), "vault.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.CreateDB(ctx, "alice/io-cozy-trips", nil); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DB("alice/io-cozy-trips", nil)
	return d.(*db)
}

func findAll(t *testing.T, d *db, query string) (ids []string, rows *findRows) {
	t.Helper()
	r, err := d.Find(context.Background(), json.RawMessage(query), nil)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	rows = r.(*findRows)
	for {
		var row driver.Row
		err := rows.Next(&row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, row.ID)
	}
	return ids, rows
}

// TestSelectiveFindReadsOnlyItsRange: with an index, a query matching 20 of 5,000 documents reads
// about 20 candidates, not the database.
func TestSelectiveFindReadsOnlyItsRange(t *testing.T) {
	ctx := context.Background()
	d := openTestDB(t)
	docs := make([]any, 5000)
	for i := range docs {
		docs[i] = map[string]any{"_id": fmt.Sprintf("t%04d", i), "device": fmt.Sprintf("phone-%d", i%250), "start": i}
	}
	if _, err := d.BulkDocs(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateIndex(ctx, "", "", `{"fields": ["device", "start"]}`, nil); err != nil {
		t.Fatal(err)
	}
	ids, rows := findAll(t, d, `{"selector": {"device": "phone-7", "start": {"$gte": 1000}}, "limit": 100}`)
	// phone-7 has i = 7, 257, 507, ...; i >= 1000 gives 1007, 1257, ... 4757: 16 documents.
	if len(ids) != 16 || ids[0] != "t1007" || ids[15] != "t4757" {
		t.Fatalf("got %v", ids)
	}
	if rows.scanned != 16 {
		t.Fatalf("read %d candidates for 16 matches; the index range should hold exactly them", rows.scanned)
	}
	_, rows = findAll(t, d, `{"selector": {"start": {"$gte": 1000}}, "limit": 10}`)
	if rows.plan.index != nil || rows.scanned > 1011 {
		t.Fatalf("no index on start: want a scan by id that stops at the limit, read %d", rows.scanned)
	}
}

// TestIndexedFindAgreesWithScan: on random data and random range queries, the indexed plan, the
// full scan and paging by bookmark all return the same documents.
func TestIndexedFindAgreesWithScan(t *testing.T) {
	ctx := context.Background()
	d := openTestDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	values := []any{nil, false, true, -3.5, -1, 0, 0.25, 0.5, 1, 2.75, 10, "a", "B", "b", "é", "z", []any{1.0}, map[string]any{"k": 1.0}}
	docs := make([]any, 1500)
	for i := range docs {
		doc := map[string]any{"_id": fmt.Sprintf("d%04d", i)}
		if rng.IntN(10) > 0 { // some documents lack the field
			doc["v"] = values[rng.IntN(len(values))]
		}
		doc["w"] = rng.IntN(5)
		docs[i] = doc
	}
	if _, err := d.BulkDocs(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateIndex(ctx, "", "by-v", `{"fields": ["v"]}`, nil); err != nil {
		t.Fatal(err)
	}
	ops := []string{"$gt", "$gte", "$lt", "$lte", "$eq"}
	for range 60 {
		bound, _ := json.Marshal(values[rng.IntN(len(values))])
		op := ops[rng.IntN(len(ops))]
		sel := fmt.Sprintf(`{"v": {%q: %s}, "w": {"$lt": 4}}`, op, bound)
		indexed, rows := findAll(t, d, `{"selector": `+sel+`, "sort": ["v"], "limit": 5000}`)
		if rows.plan.index == nil {
			t.Fatalf("%s: the index was not used", sel)
		}
		// An $or with a field no document has requires no field: no index serves it.
		scanned, rows := findAll(t, d, `{"selector": {"$or": [`+sel+`, {"nowhere": 1}]}, "limit": 5000}`)
		if rows.plan.index != nil {
			t.Fatalf("%s: the scan used an index", sel)
		}
		a, b := slices.Clone(indexed), slices.Clone(scanned)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%s: index gave %d docs, scan %d", sel, len(a), len(b))
		}
		var paged []string
		bm := ""
		for {
			ids, rows := findAll(t, d, fmt.Sprintf(`{"selector": %s, "sort": [{"v": "desc"}], "limit": 7, "bookmark": %q}`, sel, bm))
			paged = append(paged, ids...)
			if len(ids) < 7 {
				break
			}
			bm = rows.Bookmark()
		}
		slices.Reverse(paged)
		if !slices.Equal(paged, indexed) {
			t.Fatalf("%s: descending pages reversed differ from the ascending result", sel)
		}
	}
}

func TestProjectRaw(t *testing.T) {
	body := []byte(`{"a": {"b": 1, "d": {"e": [1, 2], "f": 3}, "x.y": true}, "c": "z", "big": {"series": [1, 2, 3]}}`)
	r := &findRows{sel: &selector{}, fields: []string{"_id", "a.b", "c", "a.d.e", "a.x\\.y", "missing", "a.b.deeper"}}
	got := string(projectRaw("id1", "1-x", r.members(body), r.fields))
	want := `{"_id":"id1","a":{"b":1,"d":{"e":[1, 2]},"x.y":true},"c":"z"}`
	if got != want {
		t.Fatalf("projection\n got %s\nwant %s", got, want)
	}
	r = &findRows{sel: &selector{}, fields: []string{"a", "a.b"}}
	if got := string(projectRaw("i", "r", r.members(body), r.fields)); !strings.HasPrefix(got, `{"a":{"b": 1, "d"`) {
		t.Fatalf("a whole member and one of its fields: %s", got)
	}
}
