package vault_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
)

// sockets returns the socket inodes among the process's open descriptors.
func sockets(t *testing.T) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open descriptors: %v", err)
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:") {
			out = append(out, target)
		}
	}
	return out
}

// TestEmbeddedOpensNoSocket checks that opening and using an embedded vault
// opens no socket: after every step, no socket exists that did not before.
func TestEmbeddedOpensNoSocket(t *testing.T) {
	ctx := t.Context()
	before := sockets(t)
	check := func(step string) {
		t.Helper()
		for _, s := range sockets(t) {
			if !slices.Contains(before, s) {
				t.Fatalf("after %s: new socket %s", step, s)
			}
		}
	}
	v, err := vault.Open(ctx, embeddedDSN(t), "demo")
	if err != nil {
		t.Fatal(err)
	}
	check("Open")
	dbs, err := v.EnsureProject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("EnsureProject")
	trips := dbs[0]
	if _, err := vault.SaveMany(ctx, trips, []map[string]any{{"startDate": "2024-01-02"}, {"startDate": "2024-01-01"}}, 0); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = trips.Find(ctx, vault.Query{Selector: map[string]any{"startDate": map[string]any{"$gt": ""}}, Sort: []vault.SortField{vault.Desc("startDate")}},
		func(json.RawMessage) error { n++; return nil })
	if err != nil || n != 2 {
		t.Fatalf("Find: %d documents, %v", n, err)
	}
	if _, _, err := trips.Changes(ctx, vault.ChangesQuery{IncludeDocs: true}); err != nil {
		t.Fatal(err)
	}
	if err := trips.PutLocal(ctx, "checkpoint", map[string]any{"since": "1"}); err != nil {
		t.Fatal(err)
	}
	check("writes, queries and changes")
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	check("Close")
}
