package netguard_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// couch is the CouchDB-protocol server of this test binary.
var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// TestVaultGoesThroughTheGuard: a vault given the guard's transport sends its CouchDB requests
// through the guard: refused while its server is not allowed, sent once it is, and cut off
// when it is revoked.
func TestVaultGoesThroughTheGuard(t *testing.T) {
	ctx := t.Context()
	url, instance := couch.URL(t), vaulttest.Instance(t)
	g := netguard.New()
	if _, err := vault.Open(ctx, url, instance, vault.WithTransport(g.Transport())); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("Open with the server not allowed: %v, want an error matching ErrBlocked", err)
	}
	if st := g.Stats(); st.Blocked == 0 || st.Dialed != 0 {
		t.Fatalf("stats %+v: want the vault's request blocked", st)
	}

	if err := g.AllowURL(url); err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(ctx, url, instance, vault.WithTransport(g.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = v.DestroyDB(context.Background(), vault.DoctypeSettings) // the server outlives the test
		_ = v.Close()
	})
	db, err := v.DB(ctx, vault.DoctypeSettings)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, "prefs", map[string]any{"unit": "kg"}); err != nil {
		t.Fatal(err)
	}
	if st := g.Stats(); st.Dialed == 0 {
		t.Fatalf("stats %+v: the vault's requests did not go through the guard", st)
	}

	if err := g.RevokeURL(url); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if _, err := db.Get(ctx, "prefs", &doc); !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("a read after the server was revoked: %v, want an error matching ErrBlocked", err)
	}
	if err := g.AllowURL(url); err != nil { // for the cleanup
		t.Fatal(err)
	}
}
