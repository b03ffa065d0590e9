package accounts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

const secret = "nrelop_larochelle_default_0123456789abcdef"

func open(t *testing.T, b vaulttest.Backend, box *seal.Box) (*accounts.Store, *vault.DB) {
	t.Helper()
	v, _, _ := b.Open(t)
	db, err := v.DB(context.Background(), vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := accounts.Open(context.Background(), db, box)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestAccounts(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			box, err := seal.OpenKeyFile(filepath.Join(t.TempDir(), "k"))
			if err != nil {
				t.Fatal(err)
			}
			store, db := open(t, b, box)
			a, created, err := store.Ensure(ctx, accounts.New{ServerURL: "https://openpath.example.org/", Token: secret, Device: "pixel"})
			if err != nil || !created {
				t.Fatalf("Ensure: %v, created %v", err, created)
			}
			if a.AccountType != accounts.Slug || a.Auth.Login != "pixel" || a.Auth.ServerURL != "https://openpath.example.org" {
				t.Fatalf("account %+v", a)
			}
			// The token is sealed at rest: the stored document does not hold it.
			var raw map[string]any
			if _, err := db.Get(ctx, a.ID, &raw); err != nil {
				t.Fatal(err)
			}
			if pw := raw["auth"].(map[string]any)["password"].(string); strings.Contains(pw, secret) || !seal.IsSealed(pw) {
				t.Fatalf("stored password %q is not sealed", pw)
			}
			if tok, err := store.Token(a); err != nil || tok != secret {
				t.Fatalf("Token: %q, %v", tok, err)
			}
			// The same server and device is the same account; a new token replaces the old one.
			again, created, err := store.Ensure(ctx, accounts.New{ServerURL: "https://openpath.example.org", Token: "new-token", Device: "pixel"})
			if err != nil || created || again.ID != a.ID {
				t.Fatalf("Ensure again: %v, created %v, id %s want %s", err, created, again.ID, a.ID)
			}
			if tok, _ := store.Token(again); tok != "new-token" {
				t.Fatalf("token after update %q", tok)
			}
			if _, _, err := store.Ensure(ctx, accounts.New{ServerURL: "ftp://x", Token: "t", Device: "d"}); err == nil {
				t.Fatal("a non-http server URL was accepted")
			}
			list, err := store.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %v, %v", list, err)
			}
			if err := store.Remove(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Get(ctx, a.ID); !errors.Is(err, accounts.ErrNotFound) {
				t.Fatalf("Get after Remove: %v", err)
			}
		})
	}
}

// TestUpdateDataNeverWritesBackStaleState: concurrent changes to different parts of the data all
// survive (the existing konnector wrote back a stale copy and reset the trip cursor).
func TestUpdateDataNeverWritesBackStaleState(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			store, _ := open(t, b, nil)
			a, _, err := store.Ensure(ctx, accounts.New{ServerURL: "http://127.0.0.1:1", Token: "t", Device: "d"})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := store.UpdateData(ctx, a.ID, func(d *accounts.Data) error {
						if i%2 == 0 {
							d.Cursors.Trips = max(d.Cursors.Trips, float64(i))
						} else {
							d.Cursors.Labels = max(d.Cursors.Labels, float64(i))
						}
						return nil
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			got, err := store.Get(ctx, a.ID)
			if err != nil || got.Data.Cursors.Trips != 8 || got.Data.Cursors.Labels != 9 {
				t.Fatalf("cursors %+v (%v), want trips 8 and labels 9", got.Data.Cursors, err)
			}
		})
	}
}
