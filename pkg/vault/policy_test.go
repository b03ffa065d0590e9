package vault_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
)

// grants is a test policy: doctype -> granted verbs, changeable while in use.
// It records every question it is asked.
type grants struct {
	mu    sync.Mutex
	verbs map[string][]string
	asked []string // "doctype verb"
}

func (g *grants) set(doctype string, verbs ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.verbs[doctype] = verbs
}

func (g *grants) policy(doctype, verb string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, doctype+" "+verb)
	granted := g.verbs[doctype]
	if slices.Contains(granted, verb) || verb == vault.VerbAny && len(granted) > 0 {
		return nil
	}
	return fmt.Errorf("the test grants %v", granted)
}

// take returns the questions asked since the last call.
func (g *grants) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	asked := g.asked
	g.asked = nil
	return asked
}

// openWithPolicy opens the test's vault on backend b twice: as is (to set up
// and check the store behind the policy's back) and with the grants' policy.
func openWithPolicy(t *testing.T, name string) (plain, restricted *vault.Vault, g *grants) {
	t.Helper()
	for _, b := range couch.Backends() {
		if b.Name != name {
			continue
		}
		plain, dsn, instance := b.Open(t)
		g = &grants{verbs: map[string][]string{}}
		restricted, err := vault.Open(t.Context(), dsn, instance, vault.WithPolicy(g.policy))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = restricted.Close() })
		return plain, restricted, g
	}
	t.Fatalf("no backend %s", name)
	return nil, nil, nil
}

// backendNames lists the backends of vaulttest.Backends.
func backendNames() []string {
	var names []string
	for _, b := range couch.Backends() {
		names = append(names, b.Name)
	}
	return names
}

// wantForbidden checks that err is a refusal naming the doctype and the verb.
func wantForbidden(t *testing.T, op string, err error, doctype, verb string) {
	t.Helper()
	if !errors.Is(err, vault.ErrForbidden) {
		t.Fatalf("%s: want an error matching ErrForbidden, got %v", op, err)
	}
	if !strings.Contains(err.Error(), doctype) || !strings.Contains(err.Error(), verb) {
		t.Fatalf("%s: the refusal %q should name %s and %s", op, err, doctype, verb)
	}
}

// TestPolicyVerbs checks which verb each operation asks for, and that a
// policy granting every verb changes nothing.
func TestPolicyVerbs(t *testing.T) {
	ctx := t.Context()
	const dt = vault.DoctypeSettings
	for _, name := range backendNames() {
		t.Run(name, func(t *testing.T) {
			_, v, g := openWithPolicy(t, name)
			g.set(dt, "GET", "POST", "PUT", "DELETE")
			db, err := v.DB(ctx, dt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = v.DestroyDB(context.Background(), dt) })
			if got := g.take(); !slices.Equal(got, []string{dt + " *"}) {
				t.Fatalf("DB asked %v", got)
			}
			var rev string
			steps := []struct {
				op   string
				want []string
				run  func() error
			}{
				{"Put", []string{"PUT"}, func() (err error) { rev, err = db.Put(ctx, "a", map[string]any{"n": 1}); return err }},
				{"Get", []string{"GET"}, func() error { var d map[string]any; _, err := db.Get(ctx, "a", &d); return err }},
				{"Create", []string{"POST"}, func() error { _, _, err := db.Create(ctx, map[string]any{"n": 2}); return err }},
				{"GetMany", []string{"GET"}, func() error { _, err := vault.GetMany[map[string]any](ctx, db, []string{"a"}); return err }},
				{"Find", []string{"GET"}, func() error { return db.Find(ctx, vault.Query{}, func(json.RawMessage) error { return nil }) }},
				{"FindAll", []string{"GET"}, func() error { _, err := vault.FindAll[map[string]any](ctx, db, vault.Query{}); return err }},
				{"Count", []string{"GET"}, func() error { _, err := db.Count(ctx); return err }},
				{"Changes", []string{"GET"}, func() error { _, _, err := db.Changes(ctx, vault.ChangesQuery{}); return err }},
				{"Indexes", []string{"GET"}, func() error { _, err := db.Indexes(ctx); return err }},
				{"EnsureIndexes", []string{"POST"}, func() error { return db.EnsureIndexes(ctx, vault.Index{Name: "by-n", Fields: []string{"n"}}) }},
				{"PutLocal", []string{"PUT"}, func() error { return db.PutLocal(ctx, "cp", map[string]any{"seq": "1"}) }},
				{"GetLocal", []string{"GET"}, func() error { var d map[string]any; return db.GetLocal(ctx, "cp", &d) }},
				{"Update", []string{"GET", "PUT"}, func() (err error) {
					rev, err = vault.Update(ctx, db, "a", func(d *map[string]any, found bool) error { (*d)["n"] = 3; return nil })
					return err
				}},
				{"SaveMany", []string{"POST"}, func() error { _, err := vault.SaveMany(ctx, db, []map[string]any{{"_id": "b"}}, 0); return err }},
				{"SaveMany with a deletion", []string{"POST", "DELETE"}, func() error {
					var b struct {
						Rev string `json:"_rev"`
					}
					if _, err := db.Get(ctx, "b", &b); err != nil {
						return err
					}
					g.take()
					_, err := vault.SaveMany(ctx, db, []json.RawMessage{json.RawMessage(`{"_id":"b","_rev":"` + b.Rev + `","_deleted":true}`)}, 0)
					return err
				}},
				{"Delete", []string{"DELETE"}, func() error { _, err := db.Delete(ctx, "a", rev); return err }},
				{"DestroyDB", []string{"DELETE"}, func() error { return v.DestroyDB(ctx, dt) }},
			}
			for _, s := range steps {
				if err := s.run(); err != nil {
					t.Fatalf("%s: %v", s.op, err)
				}
				var want []string
				for _, verb := range s.want {
					want = append(want, dt+" "+verb)
				}
				if got := g.take(); !slices.Equal(got, want) {
					t.Errorf("%s asked %v, want %v", s.op, got, want)
				}
			}
		})
	}
}

// TestPolicyRefuses checks that each refused operation fails with
// ErrForbidden and leaves the store as it was.
func TestPolicyRefuses(t *testing.T) {
	ctx := t.Context()
	const dt = vault.DoctypeStudies
	for _, name := range backendNames() {
		t.Run(name, func(t *testing.T) {
			plain, v, g := openWithPolicy(t, name)
			pdb := vaultsuite.OpenDB(t, plain, dt)
			rev, err := pdb.Put(ctx, "a", map[string]any{"n": 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := pdb.EnsureIndexes(ctx, vault.Index{Name: "by-n", Fields: []string{"n"}}); err != nil {
				t.Fatal(err)
			}
			unchanged := func(op string) {
				t.Helper()
				var d struct {
					Rev string `json:"_rev"`
				}
				if got, err := pdb.Get(ctx, "a", &d); err != nil || got != rev {
					t.Fatalf("after a refused %s: document a at %q (%v), want %q", op, got, err, rev)
				}
				n, err := pdb.Count(ctx)
				if err != nil || n != 1 {
					t.Fatalf("after a refused %s: %d documents (%v), want 1", op, n, err)
				}
				if err := pdb.GetLocal(ctx, "cp", &d); !errors.Is(err, vault.ErrNotFound) {
					t.Fatalf("after a refused %s: a _local document was written (%v)", op, err)
				}
			}

			// Nothing granted: not even a handle.
			if _, err := v.DB(ctx, dt); err == nil {
				t.Fatal("DB of an ungranted doctype: no error")
			} else {
				wantForbidden(t, "DB", err, dt, "any access")
			}
			if err := v.DestroyDB(ctx, dt); err == nil {
				t.Fatal("DestroyDB of an ungranted doctype: no error")
			} else {
				wantForbidden(t, "DestroyDB", err, dt, "DELETE")
			}
			if _, err := v.Databases(ctx); !errors.Is(err, vault.ErrForbidden) {
				t.Fatalf("Databases with a policy: %v, want ErrForbidden", err)
			}

			// Read only.
			g.set(dt, "GET")
			db, err := v.DB(ctx, dt)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if _, err := db.Get(ctx, "a", &doc); err != nil || doc["n"] != 1.0 {
				t.Fatalf("granted Get: %v, %v", doc, err)
			}
			if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-n", Fields: []string{"n"}}); err != nil {
				t.Fatalf("EnsureIndexes of an existing index with GET only: %v", err)
			}
			writes := []struct {
				op, verb string
				run      func() error
			}{
				{"Put", "PUT", func() error { _, err := db.Put(ctx, "a", map[string]any{"_rev": rev, "n": 2}); return err }},
				{"Create", "POST", func() error { _, _, err := db.Create(ctx, map[string]any{"n": 2}); return err }},
				{"Delete", "DELETE", func() error { _, err := db.Delete(ctx, "a", rev); return err }},
				{"PutLocal", "PUT", func() error { return db.PutLocal(ctx, "cp", map[string]any{"seq": "1"}) }},
				{"Update", "PUT", func() error {
					_, err := vault.Update(ctx, db, "a", func(d *map[string]any, _ bool) error { (*d)["n"] = 2; return nil })
					return err
				}},
				{"SaveMany", "POST", func() error { _, err := vault.SaveMany(ctx, db, []map[string]any{{"n": 2}}, 0); return err }},
				{"EnsureIndexes", "POST", func() error { return db.EnsureIndexes(ctx, vault.Index{Name: "by-m", Fields: []string{"m"}}) }},
				{"DestroyDB", "DELETE", func() error { return v.DestroyDB(ctx, dt) }},
			}
			for _, w := range writes {
				err := w.run()
				if err == nil {
					t.Fatalf("%s with GET only: no error", w.op)
				}
				wantForbidden(t, w.op, err, dt, w.verb)
				unchanged(w.op)
			}

			// Write without read: Update needs both, PutLocal only PUT.
			g.set(dt, "PUT", "POST")
			if _, err := db.Get(ctx, "a", &doc); err == nil {
				t.Fatal("Get without GET: no error")
			} else {
				wantForbidden(t, "Get", err, dt, "GET")
			}
			for op, run := range map[string]func() error{
				"Find":    func() error { return db.Find(ctx, vault.Query{}, func(json.RawMessage) error { return nil }) },
				"FindAll": func() error { _, err := vault.FindAll[map[string]any](ctx, db, vault.Query{}); return err },
				"GetMany": func() error { _, err := vault.GetMany[map[string]any](ctx, db, []string{"a"}); return err },
				"Count":   func() error { _, err := db.Count(ctx); return err },
				"Changes": func() error { _, _, err := db.Changes(ctx, vault.ChangesQuery{}); return err },
				"Indexes": func() error { _, err := db.Indexes(ctx); return err },
				"GetLocal": func() error {
					var d map[string]any
					return db.GetLocal(ctx, "cp", &d)
				},
				"Update": func() error {
					_, err := vault.Update(ctx, db, "a", func(d *map[string]any, _ bool) error { return nil })
					return err
				},
			} {
				if err := run(); err == nil {
					t.Fatalf("%s without GET: no error", op)
				} else {
					wantForbidden(t, op, err, dt, "GET")
				}
			}
			if err := db.PutLocal(ctx, "other", map[string]any{"seq": "2"}); err != nil {
				t.Fatalf("PutLocal with PUT only: %v", err)
			}
			// A deletion in a bulk write needs DELETE, and then nothing is written.
			_, err = vault.SaveMany(ctx, db, []map[string]any{{"_id": "new", "n": 5}, {"_id": "a", "_rev": rev, "_deleted": true}}, 0)
			wantForbidden(t, "SaveMany with a deletion", err, dt, "DELETE")
			unchanged("SaveMany with a deletion")

			// Revoking takes effect at once, on the handle already held.
			g.set(dt)
			if _, err := db.Put(ctx, "z", map[string]any{}); err == nil {
				t.Fatal("Put after revocation: no error")
			} else {
				wantForbidden(t, "Put after revocation", err, dt, "PUT")
			}
			if _, err := v.DB(ctx, dt); !errors.Is(err, vault.ErrForbidden) {
				t.Fatalf("DB after revocation: %v, want ErrForbidden", err)
			}
		})
	}
}

// TestPolicyErrorWrapping checks that a policy's own ErrForbidden is not
// doubled and that other errors are made to match ErrForbidden.
func TestPolicyErrorWrapping(t *testing.T) {
	ctx := t.Context()
	mine := errors.New("closed for the night")
	v, err := vault.Open(ctx, embeddedDSN(t), "demo", vault.WithPolicy(func(doctype, verb string) error {
		if verb == vault.VerbAny {
			return nil
		}
		if verb == "GET" {
			return fmt.Errorf("%w: reads are off", vault.ErrForbidden)
		}
		return mine
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Get(ctx, "a", &struct{}{})
	if !errors.Is(err, vault.ErrForbidden) || strings.Count(err.Error(), "forbidden") != 1 {
		t.Fatalf("Get: %v", err)
	}
	_, err = db.Put(ctx, "a", map[string]any{})
	if !errors.Is(err, vault.ErrForbidden) || !errors.Is(err, mine) {
		t.Fatalf("Put: %v, want both ErrForbidden and the policy's error", err)
	}
}
