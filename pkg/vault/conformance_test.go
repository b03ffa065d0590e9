package vault_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	kivik "github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// TestConformance runs the vault's conformance suite (pkg/vault/vaultsuite) on the embedded
// driver, on the CouchDB-protocol server, and on the Cozy stack double in front of that server;
// go test -v shows each case once per backend.
func TestConformance(t *testing.T) {
	server := vaulttest.Name()
	serverKnown := map[string]string{}
	if server == "pouchdb-server" {
		serverKnown = vaultsuite.PouchDBKnown()
	}
	for _, b := range []vaultsuite.Backend{
		{Name: "embedded", NewStore: embeddedStore},
		{Name: server, NewStore: serverStore, Known: serverKnown},
		{Name: "cozy-stack", NewStore: cozyStore, Known: vaultsuite.Merge(serverKnown, vaultsuite.CozyStackKnown())},
	} {
		t.Run(b.Name, func(t *testing.T) { vaultsuite.Run(t, b) })
	}
}

// openForSuite opens a vault and closes it when the test ends.
func openForSuite(t testing.TB, open func() (*vault.Vault, error)) *vault.Vault {
	t.Helper()
	v, err := open()
	if err != nil {
		t.Fatalf("open the vault: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return v
}

// kivikDB returns client's handle on the database of instance for doctype.
func kivikDB(t testing.TB, client *kivik.Client, instance, doctype string) *kivik.DB {
	t.Helper()
	name, err := vault.DBName(instance, doctype)
	if err != nil {
		t.Fatal(err)
	}
	return client.DB(name)
}

func newKivik(t testing.TB, driver, dsn string, opts ...kivik.Option) *kivik.Client {
	t.Helper()
	client, err := kivik.New(driver, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// embeddedStore is a new vault file.
func embeddedStore(t testing.TB) vaultsuite.Store {
	path := filepath.Join(t.TempDir(), "vault.db")
	return vaultsuite.Store{
		Open: func(t testing.TB, instance string) *vault.Vault {
			return openForSuite(t, func() (*vault.Vault, error) { return vault.Open(context.Background(), "file:"+path, instance) })
		},
		Kivik: func(t testing.TB, instance, doctype string) *kivik.DB {
			return kivikDB(t, newKivik(t, sqlitecouch.DriverName, path), instance, doctype)
		},
	}
}

// serverStore is the test binary's server; the tests' unique instances keep them apart.
func serverStore(t testing.TB) vaultsuite.Store {
	url := couch.URL(t)
	return vaultsuite.Store{
		Open: func(t testing.TB, instance string) *vault.Vault {
			return openForSuite(t, func() (*vault.Vault, error) { return vault.Open(context.Background(), url, instance) })
		},
		Kivik: func(t testing.TB, instance, doctype string) *kivik.DB {
			return kivikDB(t, newKivik(t, "couch", url), instance, doctype)
		},
	}
}

// cozyStore reaches the server through a Cozy stack double per instance, which grants the
// suite's doctypes.
func cozyStore(t testing.TB) vaultsuite.Store {
	url := couch.URL(t)
	var mu sync.Mutex
	stacks := map[string]*vaulttest.CozyStack{}
	stack := func(t testing.TB, instance string) *vaulttest.CozyStack {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := stacks[instance]; ok {
			return s
		}
		manifest := `{"permissions": {`
		for i, doctype := range vaultsuite.Doctypes() {
			if i > 0 {
				manifest += ","
			}
			manifest += `"p` + string(rune('a'+i)) + `": {"type": "` + doctype + `", "verbs": ["ALL"]}`
		}
		s := vaulttest.NewCozyStack(t, url, instance, []byte(manifest+"}}"))
		stacks[instance] = s
		return s
	}
	return vaultsuite.Store{
		Open: func(t testing.TB, instance string) *vault.Vault {
			s := stack(t, instance)
			return openForSuite(t, func() (*vault.Vault, error) { return vault.OpenCozy(context.Background(), s.URL, s.Token) })
		},
		Kivik: func(t testing.TB, instance, doctype string) *kivik.DB {
			s := stack(t, instance)
			// As vault.OpenCozy does: the stack has no decompressing middleware (web/routing.go).
			return newKivik(t, "couch", s.URL+"data/", couchdb.JWTAuth(s.Token), couchdb.OptionNoRequestCompression()).DB(doctype)
		},
	}
}
