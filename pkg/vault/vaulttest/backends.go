package vaulttest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
)

// Backend is one vault implementation for the tests of packages built on the vault.
type Backend struct {
	// Name is "embedded", "pouchdb-server" or "couchdb".
	Name string
	// Open opens a new, empty vault for the test (a new file, or a new instance on the server)
	// and returns it with its DSN and instance; it is closed, and its server databases
	// destroyed, when the test ends.
	Open func(t testing.TB) (v *vault.Vault, dsn, instance string)
	// ServerCPU, when not nil, is the CPU time the backend's server process has used so far (see
	// [Server.CPU]). The embedded store has none: it works in the test's own process.
	ServerCPU func() (time.Duration, bool)
}

// Backends returns the embedded store and the server's, so that a test can run on both:
//
//	for _, b := range couch.Backends() {
//		t.Run(b.Name, func(t *testing.T) { v, _, _ := b.Open(t); ... })
//	}
func (s *Server) Backends() []Backend {
	return []Backend{
		{Name: "embedded", Open: func(t testing.TB) (*vault.Vault, string, string) {
			dsn, instance := "file:"+filepath.Join(t.TempDir(), "vault.db"), Instance(t)
			return openForTest(t, dsn, instance, false), dsn, instance
		}},
		{Name: Name(), Open: func(t testing.TB) (*vault.Vault, string, string) {
			dsn, instance := s.URL(t), Instance(t)
			return openForTest(t, dsn, instance, true), dsn, instance
		}, ServerCPU: s.CPU},
	}
}

func openForTest(t testing.TB, dsn, instance string, destroy bool) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), dsn, instance)
	if err != nil {
		t.Fatalf("open the vault: %v", err)
	}
	t.Cleanup(func() {
		if destroy {
			for _, spec := range vault.ProjectDatabases() {
				_ = v.DestroyDB(context.Background(), spec.Doctype)
			}
		}
		_ = v.Close()
	})
	return v
}
