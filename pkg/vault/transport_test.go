package vault_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// countingTransport counts the requests it sends.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TestWithTransport: a vault on a server, or on a Cozy stack, sends every request through the
// transport it was given.
func TestWithTransport(t *testing.T) {
	ctx := t.Context()
	use := func(t *testing.T, v *vault.Vault) {
		t.Helper()
		// One the test stack's manifest grants with POST: a create with a chosen id needs it.
		db, err := v.DB(ctx, vault.DoctypeTrips)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Update(ctx, db, "prefs", func(doc *map[string]any, _ bool) error {
			*doc = map[string]any{"unit": "kg"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("server", func(t *testing.T) {
		rt := &countingTransport{base: http.DefaultTransport}
		v, err := vault.Open(ctx, couch.URL(t), vaulttest.Instance(t), vault.WithTransport(rt))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = v.DestroyDB(ctx, vault.DoctypeTrips) // the server outlives the test
			_ = v.Close()
		})
		opened := rt.n.Load()
		use(t, v)
		if opened == 0 || rt.n.Load() <= opened {
			t.Fatalf("%d requests through the transport at Open, %d in all: want both > 0", opened, rt.n.Load())
		}
	})
	t.Run("cozy", func(t *testing.T) {
		stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(testKonnectorManifest))
		rt := &countingTransport{base: http.DefaultTransport}
		v, err := vault.OpenCozy(ctx, stack.URL, stack.Token, vault.WithTransport(rt))
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		use(t, v)
		if rt.n.Load() == 0 {
			t.Fatal("no request through the transport")
		}
	})
}
