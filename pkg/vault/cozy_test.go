package vault_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// The Cozy stack cannot run here: these tests check OpenCozy against a double of the stack's data
// API that follows the stack's source (vaulttest.CozyStack, itself tested rule by rule) over the
// real CouchDB-protocol server.
const testKonnectorManifest = `{"permissions": {
	"accounts": {"type": "io.cozy.accounts", "verbs": ["GET", "PUT"]},
	"trips": {"type": "io.cozy.timeseries.geojson", "verbs": ["GET", "POST", "PUT", "DELETE"]}}}`

// openCozy opens a vault through a new stack double with the test manifest.
func openCozy(t *testing.T) (*vaulttest.CozyStack, *vault.Vault) {
	t.Helper()
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(testKonnectorManifest))
	v, err := vault.OpenCozy(t.Context(), stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return stack, v
}

func TestOpenCozy(t *testing.T) {
	ctx := t.Context()
	stack, v := openCozy(t)
	trips, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	if trips.Name() != vault.DoctypeTrips {
		t.Fatalf("database %q: through the stack, a database is named by its doctype", trips.Name())
	}
	type doc struct {
		KM float64 `json:"km"`
	}
	if _, err := vault.SaveMany(ctx, trips, []map[string]any{{"_id": "a", "km": 1.5}, {"_id": "b", "km": 7}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Update(ctx, trips, "a", func(d *doc, found bool) error { d.KM += 1; return nil }); err != nil {
		t.Fatal(err)
	}
	// A create with a chosen id: a PUT with neither _id nor _rev (POST permission).
	if _, err := vault.Update(ctx, trips, "c", func(d *doc, found bool) error { d.KM = 9; return nil }); err != nil {
		t.Fatalf("Update creating a document through the stack: %v", err)
	}
	if err := trips.EnsureIndexes(ctx, vault.Index{Name: "by-km", Fields: []string{"km"}}); err != nil {
		t.Fatal(err)
	}
	got, err := vault.FindAll[doc](ctx, trips, vault.Query{Selector: map[string]any{"km": map[string]any{"$gt": 2}}, Sort: []vault.SortField{vault.Asc("km")}})
	if err != nil || len(got) != 3 || got[0].KM != 2.5 || got[1].KM != 7 || got[2].KM != 9 {
		t.Fatalf("find through the stack: %+v, %v", got, err)
	}
	id, rev, err := trips.Create(ctx, map[string]any{"km": 3})
	if err != nil || id == "" {
		t.Fatalf("create through POST /data/:doctype/: %q, %v", id, err)
	}
	if gone, err := trips.Delete(ctx, id, rev); err != nil || gone == "" || gone == rev {
		t.Fatalf("delete through the stack: new revision %q, %v", gone, err)
	}
	// What the manifest does not grant is refused.
	settings, err := v.DB(ctx, vault.DoctypeSettings)
	if err == nil {
		_, err = settings.Put(ctx, "s", map[string]any{"x": 1})
	}
	if err == nil || !strings.Contains(err.Error(), "403") && !strings.Contains(strings.ToLower(err.Error()), "forbidden") {
		t.Fatalf("write to an undeclared doctype: %v, want 403", err)
	}
	bad, err := vault.OpenCozy(ctx, stack.URL, "expired-token")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	db, _ := bad.DB(ctx, vault.DoctypeTrips)
	var d doc
	if _, err := db.Get(ctx, "a", &d); err == nil || errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("a wrong token: %v, want a refusal", err)
	}
}

// TestCozyEnsureIndexes: the stack neither lists nor deletes indexes; EnsureIndexes defines them
// again and again (each run of the konnector), and a changed index replaces the old one.
func TestCozyEnsureIndexes(t *testing.T) {
	ctx := t.Context()
	_, v := openCozy(t)
	trips, _ := v.DB(ctx, vault.DoctypeTrips)
	if _, err := vault.SaveMany(ctx, trips, []map[string]any{{"_id": "a", "km": 2, "min": 9}, {"_id": "b", "km": 1, "min": 20}}, 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := trips.EnsureIndexes(ctx, vault.Index{Name: "by-x", Fields: []string{"km"}}); err != nil {
			t.Fatal(err)
		}
	}
	if vaulttest.Name() == "pouchdb-server" {
		t.Skip("known difference of pouchdb-server: POST _index answers \"exists\" for an index of that name with other fields, where CouchDB replaces it (mango_idx_view:add)")
	}
	if err := trips.EnsureIndexes(ctx, vault.Index{Name: "by-x", Fields: []string{"min"}}); err != nil {
		t.Fatal(err)
	}
	ids := vaultsuite.FindIDs(t, trips, vault.Query{Selector: map[string]any{"min": map[string]any{"$gt": 0}}, Sort: []vault.SortField{vault.Asc("min")}, UseIndex: "by-x"})
	if strings.Join(ids, ",") != "a,b" {
		t.Fatalf("sorted on the replaced index: %v", ids)
	}
}

// TestCozyFindPagesOverTheStacksLimit: the stack answers 100 documents to a _find limit above
// 1000; a page size above it still reads every document.
func TestCozyFindPagesOverTheStacksLimit(t *testing.T) {
	ctx := t.Context()
	_, v := openCozy(t)
	trips, _ := v.DB(ctx, vault.DoctypeTrips)
	docs := make([]map[string]any, 250)
	for i := range docs {
		docs[i] = map[string]any{"_id": fmt.Sprintf("t%04d", i), "n": i}
	}
	if _, err := vault.SaveMany(ctx, trips, docs, 0); err != nil {
		t.Fatal(err)
	}
	if ids := vaultsuite.FindIDs(t, trips, vault.Query{PageSize: 1500}); len(ids) != len(docs) {
		t.Fatalf("Find with a page of 1500 through the stack: %d documents, want %d", len(ids), len(docs))
	}
}

// TestCozyEnsureIndexesAsksGET: through a stack, defining an index is a read-side operation
// (web/data/data.go, defineIndex checks GET): a policy granting GET only lets EnsureIndexes
// through, as the stack does.
func TestCozyEnsureIndexesAsksGET(t *testing.T) {
	ctx := t.Context()
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {"a": {"type": "io.cozy.accounts", "verbs": ["GET"]}}}`))
	readOnly := vault.WithPolicy(func(doctype, verb string) error {
		if verb != http.MethodGet && verb != vault.VerbAny {
			return errors.New("read only")
		}
		return nil
	})
	v, err := vault.OpenCozy(ctx, stack.URL, stack.Token, readOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-account_type", Fields: []string{"account_type"}}); err != nil {
		t.Fatalf("EnsureIndexes with GET only: %v", err)
	}
}

// TestCozyHasNoLease: through a Cozy stack, which writes no design document, the lease methods
// say so at once.
func TestCozyHasNoLease(t *testing.T) {
	ctx := t.Context()
	_, v := openCozy(t)
	trips, _ := v.DB(ctx, vault.DoctypeTrips)
	var doc map[string]any
	if _, err := trips.GetLease(ctx, "lock", &doc); !errors.Is(err, vault.ErrNoLease) {
		t.Errorf("GetLease: err = %v, want ErrNoLease", err)
	}
	if _, err := trips.PutLeaseIf(ctx, "lock", "", doc); !errors.Is(err, vault.ErrNoLease) {
		t.Errorf("PutLeaseIf: err = %v, want ErrNoLease", err)
	}
}
