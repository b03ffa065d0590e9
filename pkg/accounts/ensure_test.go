package accounts_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// Environment of the child process of TestEnsureAcrossProcesses.
const (
	envChildDSN      = "ACCOUNTS_TEST_CHILD_DSN"
	envChildInstance = "ACCOUNTS_TEST_CHILD_INSTANCE"
	envChildKey      = "ACCOUNTS_TEST_CHILD_KEY"
	envChildN        = "ACCOUNTS_TEST_CHILD_N"
)

// newAccount is what every racer of the tests below ensures.
var newAccount = accounts.New{ServerURL: "https://openpath.example.org/", Token: secret, Device: "pixel"}

// ensureResult is one Ensure of a racer, as the child process reports it on stdout.
type ensureResult struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
	Err     string `json:"err,omitempty"`
}

// ensureRacers opens n stores, each on its own vault handle (its own connections to the file or the
// server), calls ready, waits for start to close, then ensures newAccount from all of them at once.
func ensureRacers(dsn, instance, keyFile string, n int, ready func(), start <-chan struct{}) []ensureResult {
	ctx := context.Background()
	results := make([]ensureResult, n)
	stores := make([]*accounts.Store, n)
	for i := range n {
		s, closeFn, err := openStore(ctx, dsn, instance, keyFile)
		if err != nil {
			results[i].Err = err.Error()
			continue
		}
		defer closeFn()
		stores[i] = s
	}
	ready()
	<-start
	var wg sync.WaitGroup
	for i, s := range stores {
		if s == nil {
			continue
		}
		wg.Go(func() {
			a, created, err := s.Ensure(ctx, newAccount)
			if err != nil {
				results[i].Err = err.Error()
				return
			}
			results[i] = ensureResult{ID: a.ID, Created: created}
		})
	}
	wg.Wait()
	return results
}

func openStore(ctx context.Context, dsn, instance, keyFile string) (*accounts.Store, func(), error) {
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		return nil, nil, err
	}
	box, err := seal.OpenKeyFile(keyFile)
	if err != nil {
		v.Close()
		return nil, nil, err
	}
	db, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		v.Close()
		return nil, nil, err
	}
	s, err := accounts.Open(ctx, db, box)
	if err != nil {
		v.Close()
		return nil, nil, err
	}
	return s, func() { v.Close() }, nil
}

// TestEnsureAcrossProcesses: two first syncs of the same account at once (here goroutines of this
// process and of a child process, each with its own vault handle) make exactly one account. On the
// server, a proxy holds every account query until all racers have asked, so that all of them see
// no account, which is the case that made one account per racer.
func TestEnsureAcrossProcesses(t *testing.T) {
	const perProcess = 4
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			v, dsn, instance := b.Open(t)
			keyFile := filepath.Join(t.TempDir(), "key")
			if _, err := seal.OpenKeyFile(keyFile); err != nil { // created once, before the racers read it
				t.Fatal(err)
			}
			if b.Name != "embedded" {
				dsn = findBarrier(t, dsn, 2*perProcess)
			}

			child := exec.Command(os.Args[0], "-test.run", "^TestEnsureChild$", "-test.count=1")
			child.Env = append(os.Environ(), envChildDSN+"="+dsn, envChildInstance+"="+instance,
				envChildKey+"="+keyFile, envChildN+"="+strconv.Itoa(perProcess))
			stdin, err := child.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := child.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			child.Stderr = &stderr
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			// The child says "ready" once its stores are open; a closed stdin starts its racers.
			if !lines.Scan() || lines.Text() != "ready" {
				_ = child.Wait()
				t.Fatalf("child did not get ready: %q\n%s", lines.Text(), stderr.String())
			}
			start := make(chan struct{})
			mine := ensureRacers(dsn, instance, keyFile, perProcess, func() {
				close(start)
				stdin.Close()
			}, start)
			var theirs []ensureResult
			for lines.Scan() {
				if !strings.HasPrefix(lines.Text(), "{") {
					continue // the test binary's own lines (PASS)
				}
				var r ensureResult
				if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
					t.Fatalf("child line %q: %v", lines.Text(), err)
				}
				theirs = append(theirs, r)
			}
			if err := child.Wait(); err != nil {
				t.Fatalf("child: %v\n%s", err, stderr.String())
			}

			all := append(mine, theirs...)
			if len(all) != 2*perProcess {
				t.Fatalf("%d results, want %d: %+v\n%s", len(all), 2*perProcess, all, stderr.String())
			}
			createdBy := 0
			for _, r := range all {
				if r.Err != "" {
					t.Fatalf("Ensure: %s", r.Err)
				}
				if r.ID != all[0].ID {
					t.Fatalf("racers got different accounts: %+v", all)
				}
				if r.Created {
					createdBy++
				}
			}
			if createdBy != 1 {
				t.Errorf("%d racers report creating the account, want 1: %+v", createdBy, all)
			}
			db, err := v.DB(ctx, vault.DoctypeAccounts)
			if err != nil {
				t.Fatal(err)
			}
			store, err := accounts.Open(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			list, err := store.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("%d accounts after %d concurrent first syncs, want 1 (%v): %+v", len(list), len(all), err, list)
			}
		})
	}
}

// TestEnsureChild is the child process of TestEnsureAcrossProcesses.
func TestEnsureChild(t *testing.T) {
	dsn := os.Getenv(envChildDSN)
	if dsn == "" {
		t.Skip("runs as the child process of TestEnsureAcrossProcesses")
	}
	n, err := strconv.Atoi(os.Getenv(envChildN))
	if err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin to start the race
		close(start)
	}()
	results := ensureRacers(dsn, os.Getenv(envChildInstance), os.Getenv(envChildKey), n, func() { fmt.Println("ready") }, start)
	enc := json.NewEncoder(os.Stdout)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
}

// findBarrier puts a proxy in front of the CouchDB-protocol server at dsn that holds each query of
// the accounts (POST .../_find) until n of them have arrived, and returns the proxy's DSN.
func findBarrier(t *testing.T, dsn string, n int) string {
	t.Helper()
	target, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
	)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/_find") && strings.Contains(r.URL.Path, "accounts") {
			mu.Lock()
			if arrived++; arrived == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	u.User = target.User
	u.Path = target.Path
	return u.String()
}

// TestEnsureNormalisesTheServer: spellings of one server URL are one account, whose id is derived
// from the server and the device; an account with a random id made by an earlier version is kept.
func TestEnsureNormalisesTheServer(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			store, db := open(t, b, nil)
			a, created, err := store.Ensure(ctx, accounts.New{ServerURL: "https://OpenPATH.example.org:443/", Token: "t", Device: "pixel"})
			if err != nil || !created {
				t.Fatalf("Ensure: %v, created %v", err, created)
			}
			if want := accounts.AccountID("https://openpath.example.org", "pixel"); a.ID != want || a.Auth.ServerURL != "https://openpath.example.org" {
				t.Fatalf("account %s at %s, want %s at https://openpath.example.org", a.ID, a.Auth.ServerURL, want)
			}
			if again, created, err := store.Ensure(ctx, accounts.New{ServerURL: "https://openpath.example.org", Token: "t", Device: "pixel"}); err != nil || created || again.ID != a.ID {
				t.Fatalf("Ensure of another spelling: %v, created %v, id %s want %s", err, created, again.ID, a.ID)
			}

			// An account of an earlier version, under a random id, for another device.
			if _, err := db.Put(ctx, "0123456789abcdef0123456789abcdef", accounts.Account{AccountType: accounts.Slug,
				Auth: accounts.Auth{Login: "fairphone", Password: "old", ServerURL: "http://127.0.0.1:8090"}}); err != nil {
				t.Fatal(err)
			}
			old, created, err := store.Ensure(ctx, accounts.New{ServerURL: "http://127.0.0.1:8090/", Token: "new", Device: "fairphone"})
			if err != nil || created || old.ID != "0123456789abcdef0123456789abcdef" {
				t.Fatalf("Ensure of an existing account with a random id: %v, created %v, id %s", err, created, old.ID)
			}
			if tok, _ := store.Token(old); tok != "new" {
				t.Fatalf("token %q, want the new one", tok)
			}
			if list, err := store.List(ctx); err != nil || len(list) != 2 {
				t.Fatalf("List: %d accounts (%v), want 2", len(list), err)
			}

			// A removed account is made again under the same id.
			if err := store.Remove(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			back, created, err := store.Ensure(ctx, accounts.New{ServerURL: "https://openpath.example.org", Token: "t", Device: "pixel"})
			if err != nil || !created || back.ID != a.ID {
				t.Fatalf("Ensure after Remove: %v, created %v, id %s want %s", err, created, back.ID, a.ID)
			}
		})
	}
}

// TestEnsureInACozy: Ensure works through a Cozy stack's data API, where a create with a chosen id
// is a PUT with neither _id nor _rev in the body.
func TestEnsureInACozy(t *testing.T) {
	ctx := context.Background()
	manifest := []byte(`{"permissions": {"accounts": {"type": "io.cozy.accounts"}}}`)
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), manifest)
	store, _ := cozyStore(t, stack)
	a, created, err := store.Ensure(ctx, newAccount)
	if err != nil || !created || a.ID != accounts.AccountID(newAccount.ServerURL, newAccount.Device) {
		t.Fatalf("Ensure: %+v, created %v, %v", a, created, err)
	}
	again, created, err := store.Ensure(ctx, accounts.New{ServerURL: newAccount.ServerURL, Token: "other", Device: "pixel"})
	if err != nil || created || again.ID != a.ID {
		t.Fatalf("Ensure again: %v, created %v", err, created)
	}
	if tok, _ := store.Token(again); tok != "other" {
		t.Fatalf("token %q after update", tok)
	}
}

// cozyStore opens the accounts (and their database) through the stack double with its token, as the konnector does.
func cozyStore(t *testing.T, stack *vaulttest.CozyStack) (*accounts.Store, *vault.DB) {
	t.Helper()
	v, err := vault.OpenCozy(t.Context(), stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	db, err := v.DB(t.Context(), vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	store, err := accounts.Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return store, db
}
