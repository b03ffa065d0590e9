package accounts_test

import (
	"context"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// foreignAccount is an account as a Cozy holds it: what the konnector's form gave (auth), and
// what Harvest and the stack set beside it, which the connector does not know.
func foreignAccount(accountType string) map[string]any {
	return map[string]any{
		"account_type": accountType,
		"auth":         map[string]any{"login": "pixel", "password": secret, "serverUrl": "https://openpath.example.org", "accountName": "My phone"},
		"data":         map[string]any{"cursors": map[string]any{"trips": 5}, "harvest": map[string]any{"seen": true}},
		"relationships": map[string]any{"vaultCipher": map[string]any{"data": map[string]any{
			"_id": "cipher-1", "_type": "com.bitwarden.ciphers"}}},
		"mutedErrors": []any{map[string]any{"type": "LOGIN_FAILED", "mutedAt": "2026-01-01T00:00:00Z"}},
		"token":       "oauth-token",
		"state":       "LOGIN_SUCCESS",
	}
}

// checkForeign fails unless the account still holds what foreignAccount set beside the
// connector's state.
func checkForeign(t *testing.T, got map[string]any) {
	t.Helper()
	auth, _ := got["auth"].(map[string]any)
	data, _ := got["data"].(map[string]any)
	if got["relationships"] == nil || got["mutedErrors"] == nil || got["token"] != "oauth-token" || got["state"] != "LOGIN_SUCCESS" ||
		auth["accountName"] != "My phone" || data["harvest"] == nil {
		t.Fatalf("the account lost what other apps set on it: %v", got)
	}
	if cursors, _ := data["cursors"].(map[string]any); cursors["labels"] != 7.0 || cursors["trips"] != 5.0 {
		t.Fatalf("the connector's change is not there: data %v", data)
	}
}

// TestUpdateDataKeepsForeignFields: saving the connector's state rewrites the account through a
// typed struct, but keeps every member other apps set (on a Cozy, dropping them is data loss in
// someone else's data).
func TestUpdateDataKeepsForeignFields(t *testing.T) {
	ctx := context.Background()
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			store, db := open(t, b, nil)
			if _, err := db.Put(ctx, "acc", foreignAccount(accounts.Slug)); err != nil {
				t.Fatal(err)
			}
			if err := store.UpdateData(ctx, "acc", func(d *accounts.Data) error { d.Cursors.Labels = 7; return nil }); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if _, err := db.Get(ctx, "acc", &got); err != nil {
				t.Fatal(err)
			}
			checkForeign(t, got)
		})
	}
	t.Run("cozy", func(t *testing.T) {
		manifest := []byte(`{"permissions": {"accounts": {"type": "io.cozy.accounts", "verbs": ["GET", "PUT"]}}}`)
		stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), manifest)
		id := stack.CreateAccount(t, foreignAccount(accounts.Slug))
		store, db := cozyStore(t, stack)
		a, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// The token as the stack decrypts it for the konnector.
		if tok, err := store.Token(a); err != nil || tok != secret || a.Auth.Login != "pixel" {
			t.Fatalf("the account's token %q (%v), login %q", tok, err, a.Auth.Login)
		}
		if err := store.UpdateData(ctx, id, func(d *accounts.Data) error { d.Cursors.Labels = 7; return nil }); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if _, err := db.Get(ctx, id, &got); err != nil {
			t.Fatal(err)
		}
		checkForeign(t, got)
	})
}

// TestLegacyAccountsAreStillTheConnectors: accounts made when the connector's slug was
// "openpath" are still found, listed and updated.
func TestLegacyAccountsAreStillTheConnectors(t *testing.T) {
	ctx := context.Background()
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			store, db := open(t, b, nil)
			if _, err := db.Put(ctx, "old", foreignAccount(accounts.LegacySlug)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Put(ctx, "other", foreignAccount("tracemob")); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Get(ctx, "old"); err != nil {
				t.Fatal(err)
			}
			list, err := store.List(ctx)
			if err != nil || len(list) != 1 || list[0].ID != "old" {
				t.Fatalf("List: %+v, %v; want the legacy account only", list, err)
			}
			if err := store.UpdateData(ctx, "old", func(d *accounts.Data) error { d.Cursors.Labels = 7; return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
}
