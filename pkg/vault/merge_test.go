package vault_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
)

// TestUpdateKeepsWhatTheTypeDoesNotKnow: Update through a typed struct writes back what other
// apps set on the document (members the struct does not have, nested ones too), applies what
// merge changed, removes what merge emptied, and leaves alone what it did not touch, in its
// stored spelling. It runs on every backend and through a Cozy stack.
func TestUpdateKeepsWhatTheTypeDoesNotKnow(t *testing.T) {
	type auth struct {
		Login string `json:"login"`
	}
	type data struct {
		Cursor  float64  `json:"cursor"`
		Pending []string `json:"pending,omitempty"`
	}
	type account struct {
		Type string `json:"account_type"`
		Auth auth   `json:"auth"`
		Data data   `json:"data"`
	}
	stored := `{"account_type": "k", "auth": {"login": "pixel", "password": "s3cret", "serverUrl": "https://x"},
		"data": {"cursor": 1.50, "pending": ["a"], "foreignState": {"x": 1}},
		"relationships": {"parent": {"data": {"_id": "p", "_type": "io.cozy.accounts"}}},
		"mutedErrors": [{"type": "LOGIN_FAILED", "mutedAt": "2026-01-01T00:00:00Z"}], "token": "oauth"}`
	check := func(t *testing.T, db *vault.DB) {
		ctx := context.Background()
		var seed map[string]any
		if err := json.Unmarshal([]byte(stored), &seed); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Update(ctx, db, "acc", func(d *map[string]any, found bool) error { *d = seed; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Update(ctx, db, "acc", func(a *account, found bool) error {
			a.Data.Cursor = 2
			a.Data.Pending = nil
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Auth          map[string]any `json:"auth"`
			Data          map[string]any `json:"data"`
			Relationships map[string]any `json:"relationships"`
			MutedErrors   []any          `json:"mutedErrors"`
			Token         string         `json:"token"`
		}
		if _, err := db.Get(ctx, "acc", &got); err != nil {
			t.Fatal(err)
		}
		if got.Relationships == nil || len(got.MutedErrors) != 1 || got.Token != "oauth" {
			t.Errorf("members the type does not know were dropped: %+v", got)
		}
		if got.Auth["serverUrl"] != "https://x" || got.Data["foreignState"] == nil {
			t.Errorf("nested members the type does not know were dropped: auth %v, data %v", got.Auth, got.Data)
		}
		if got.Data["cursor"] != 2.0 {
			t.Errorf("the change was not applied: data %v", got.Data)
		}
		if _, ok := got.Data["pending"]; ok {
			t.Errorf("an emptied omitempty member was kept: data %v", got.Data)
		}
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			check(t, vaultsuite.OpenDB(t, openVault(t, b.dsn(t)), vault.DoctypeTrips))
		})
	}
	t.Run("cozy", func(t *testing.T) {
		_, v := openCozy(t)
		db, err := v.DB(context.Background(), vault.DoctypeTrips)
		if err != nil {
			t.Fatal(err)
		}
		check(t, db)
	})
}
