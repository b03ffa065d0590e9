package sqlitecouch

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/go-kivik/kivik/v4/driver"
)

// copyFixture copies a vault file of testdata/schema into a temporary directory.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "vault.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func userVersion(t *testing.T, c *Client) int {
	t.Helper()
	var v int
	if err := c.sql.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaOpensEveryReleasedVersion: the vault files written by earlier versions (v0: before the
// schema had a version; v2: the first versioned schema) open, are brought to the current
// version, and keep their documents, tombstones, _local documents and indexes. A change of the
// schema adds its own file here.
func TestSchemaOpensEveryReleasedVersion(t *testing.T) {
	ctx := context.Background()
	for _, fixture := range []string{"v0.db", "v2.db"} {
		t.Run(fixture, func(t *testing.T) {
			c, err := Open(ctx, copyFixture(t, fixture))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := userVersion(t, c); got != SchemaVersion() {
				t.Fatalf("schema version %d after opening, want %d", got, SchemaVersion())
			}
			dd, _ := c.DB("alice/io-cozy-coachco2-settings", nil)
			d := dd.(*db)
			if ids, rows := findAll(t, d, `{"selector": {"theme": "dark"}}`); len(ids) != 1 || ids[0] != "theme" || rows.plan.index == nil {
				t.Fatalf("find by the file's index: %v (index %v), want [theme] through by-theme", ids, rows.plan.index)
			}
			var ce *Error
			if _, err := d.Get(ctx, "gone", nil); !errors.As(err, &ce) || ce.Reason != "deleted" {
				t.Fatalf("the tombstone: %v, want 404 deleted", err)
			}
			if _, err := d.Get(ctx, "_local/sync", nil); err != nil {
				t.Fatalf("the _local document: %v", err)
			}
			// What the migrations added works on the old file.
			if err := d.SetSecurity(ctx, &driver.Security{Members: driver.Members{Names: []string{"alice"}}}); err != nil {
				t.Fatal(err)
			}
			if sec, err := d.Security(ctx); err != nil || len(sec.Members.Names) != 1 {
				t.Fatalf("security after the upgrade: %+v, %v", sec, err)
			}
			// The count of live documents, kept since version 3, starts from the file's.
			var live int64
			if err := c.sql.QueryRow(`SELECT count(*) FROM docs WHERE db = (SELECT id FROM dbs WHERE name = ?) AND deleted = 0`,
				"alice/io-cozy-coachco2-settings").Scan(&live); err != nil {
				t.Fatal(err)
			}
			rows, err := d.AllDocs(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if got := rows.TotalRows(); live == 0 || got != live {
				t.Fatalf("total_rows after the upgrade: %d, want the file's %d live documents", got, live)
			}
		})
	}
}

// TestSchemaNewerFileRefused: a file written by a newer version is refused, and left unchanged.
func TestSchemaNewerFileRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vault.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newer := SchemaVersion() + 1
	if _, err := c.sql.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(newer)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c, err := Open(ctx, path); !errors.Is(err, ErrNewerSchema) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("open a file of schema %d: %v, want ErrNewerSchema", newer, err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != newer {
		t.Fatalf("version after the refusal: %d, %v; want %d", v, err, newer)
	}
}

// TestSchemaNextVersionOpensThisOne: a file of the current version takes a further migration,
// as the next version of the code would apply it, and keeps its documents.
func TestSchemaNextVersionOpensThisOne(t *testing.T) {
	ctx := context.Background()
	d := openTestDB(t)
	if _, err := d.Put(ctx, "kept", map[string]any{"v": 1}, nil); err != nil {
		t.Fatal(err)
	}
	next := append(append([]string(nil), migrations...), `CREATE TABLE next_feature (x INTEGER)`)
	if err := upgrade(ctx, d.client.sql, next); err != nil {
		t.Fatal(err)
	}
	if got := userVersion(t, d.client); got != len(next) {
		t.Fatalf("version %d, want %d", got, len(next))
	}
	if _, err := d.Get(ctx, "kept", nil); err != nil {
		t.Fatalf("after the next migration: %v", err)
	}
	// The current code refuses what the next one wrote.
	if err := upgrade(ctx, d.client.sql, migrations); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("current migrations on the next version's file: %v, want ErrNewerSchema", err)
	}
}

// TestSchemaConcurrentOpens: clients opening one new file at once apply each migration once.
func TestSchemaConcurrentOpens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vault.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			c, err := Open(ctx, path)
			if err == nil {
				err = c.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
