package vault_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// couch is the CouchDB-protocol server of this test binary: COUCHDB_URL, or
// a pouchdb-server started on first use.
var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// backend is one implementation the vault contract is checked against.
type backend struct {
	name string
	// dsn returns the DSN of a vault for the test: a new file for the
	// embedded driver, the shared server otherwise.
	dsn func(t testing.TB) string
}

func backends() []backend {
	server := backend{name: vaulttest.Name(), dsn: func(t testing.TB) string { return couch.URL(t) }}
	return []backend{
		{name: "embedded", dsn: embeddedDSN},
		server,
	}
}

// embeddedDSN returns a new vault file in the test's temporary directory.
func embeddedDSN(t testing.TB) string {
	t.Helper()
	return "file:" + filepath.Join(t.TempDir(), "vault.db")
}

// openVault opens the vault at dsn for a new, unique instance, and closes it
// when the test ends.
func openVault(t testing.TB, dsn string) *vault.Vault {
	t.Helper()
	return openInstance(t, dsn, vaulttest.Instance(t))
}

// openInstance opens the vault at dsn for the instance, and closes it when
// the test ends.
func openInstance(t testing.TB, dsn, instance string) *vault.Vault {
	t.Helper()
	v, err := vault.Open(t.Context(), dsn, instance)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return v
}
