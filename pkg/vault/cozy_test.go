package vault_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// The Cozy stack cannot run here: these tests check OpenCozy against a double of the stack's data
// API that follows its documented contract (vaulttest.CozyStack) over the real CouchDB-protocol
// server.
const testKonnectorManifest = `{"permissions": {
	"accounts": {"type": "io.cozy.accounts", "verbs": ["GET", "PUT"]},
	"trips": {"type": "io.cozy.timeseries.geojson", "verbs": ["GET", "POST", "PUT"]}}}`

func TestOpenCozy(t *testing.T) {
	ctx := t.Context()
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(testKonnectorManifest))
	v, err := vault.OpenCozy(ctx, stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	trips, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	if trips.Name() != vault.DoctypeTrips {
		t.Fatalf("database %q: through the stack, a database is named by its doctype", trips.Name())
	}
	if err := trips.EnsureIndexes(ctx, vault.Index{Name: "by-km", Fields: []string{"km"}}); err != nil {
		t.Fatal(err)
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
	got, err := vault.FindAll[doc](ctx, trips, vault.Query{Selector: map[string]any{"km": map[string]any{"$gt": 2}}, Sort: []vault.SortField{vault.Asc("km")}})
	if err != nil || len(got) != 2 || got[0].KM != 2.5 || got[1].KM != 7 {
		t.Fatalf("find through the stack: %+v, %v", got, err)
	}
	id, _, err := trips.Create(ctx, map[string]any{"km": 3})
	if err != nil || id == "" {
		t.Fatalf("create through POST /data/:doctype/: %q, %v", id, err)
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
		t.Fatalf("a wrong token: %v, want 401", err)
	}
}
