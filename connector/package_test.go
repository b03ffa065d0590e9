package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// maxRegistryTarball is the largest version the apps registry downloads (cozy-apps-registry
// registry/registry.go, maxApplicationSize).
const maxRegistryTarball = 20 << 20

// The samples' README: 76 distinct trips, 114 sections.
const (
	sampleTrips    = 76
	sampleSections = 114
)

// TestPackagedKonnector builds the konnector package as make konnector does, and runs it the way
// the stock stack runs a konnector (cozy-stack worker/exec): the tarball unpacked into a new
// folder with every file mode 0640 (extractTar), then node on that folder
// (scripts/konnector-node-run.sh) from another working directory, with the job's environment and
// nothing else (not even PATH), stdout read as JSON lines. The instance is the stack double, the
// tracking server the devserver with the shared samples.
func TestPackagedKonnector(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the konnector package and runs it under Node.js")
	}
	node := nodeForTest(t)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the package bundles a linux/amd64 binary, which cannot run on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	tarball := buildPackage(t)
	manifest := checkTarball(t, tarball)
	var m struct {
		Slug       string          `json:"slug"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}

	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), manifest)
	samples := httptest.NewServer(sampleDevserver(t, 3, "sample-user", sampleData(t)))
	t.Cleanup(samples.Close)
	down := sampleDevserver(t, 3, "sample-user", sampleData(t))
	if err := down.SetFaults(devserver.Faults{FailRate: 1}); err != nil {
		t.Fatal(err)
	}
	downServer := httptest.NewServer(down)
	t.Cleanup(downServer.Close)

	job := func(t *testing.T, account string) jobResult {
		t.Helper()
		return runPackage(t, node, tarball, []string{
			"COZY_URL=" + stack.URL,
			"COZY_CREDENTIALS=" + stack.Token,
			`COZY_FIELDS={"konnector": "` + m.Slug + `", "account": "` + account + `", "folder_to_save": ""}`,
			"COZY_PARAMETERS=" + string(m.Parameters),
			"COZY_LANGUAGE=node",
			"COZY_LOCALE=fr",
			"COZY_TIME_LIMIT=305",
			"COZY_JOB_ID=job-1",
			"COZY_JOB_MANUAL_EXECUTION=true",
		}, "sample-user")
	}
	account := func(server, token string) map[string]any {
		return map[string]any{"account_type": m.Slug,
			"auth":          map[string]any{"login": "pixel", "password": token, "serverUrl": server, "accountName": "My phone"},
			"relationships": map[string]any{"vaultCipher": map[string]any{"data": map[string]any{"_id": "c1", "_type": "com.bitwarden.ciphers"}}},
			"mutedErrors":   []any{map[string]any{"type": "VENDOR_DOWN", "mutedAt": "2026-01-01T00:00:00Z"}},
			"state":         "LOGIN_SUCCESS",
		}
	}
	ctx := context.Background()
	v, err := vault.OpenCozy(ctx, stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tripsDB, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	tripWrites := func() int { return stack.Writes(vault.DoctypeTrips) }

	good := stack.CreateAccount(t, account(samples.URL, "sample-user"))
	t.Run("syncs the samples", func(t *testing.T) {
		r := job(t, good)
		r.succeeded(t)
		trips, sections := countTrips(t, tripsDB)
		if trips != sampleTrips || sections != sampleSections {
			t.Fatalf("%d trips and %d sections in the instance, want %d and %d", trips, sections, sampleTrips, sampleSections)
		}
	})
	t.Run("a second run writes no trip", func(t *testing.T) {
		before := tripWrites()
		job(t, good).succeeded(t)
		if after := tripWrites(); after != before {
			t.Fatalf("%d trip writes in the second run", after-before)
		}
	})
	t.Run("the account keeps what other apps set", func(t *testing.T) {
		got := homeRead(t, stack, good)
		auth, _ := got["auth"].(map[string]any)
		data, _ := got["data"].(map[string]any)
		if got["relationships"] == nil || got["mutedErrors"] == nil || got["state"] != "LOGIN_SUCCESS" || auth["accountName"] != "My phone" {
			t.Fatalf("the account lost what Harvest set: %v", got)
		}
		if auth["password"] != nil || auth["credentials_encrypted"] == nil {
			t.Fatalf("the credentials are not encrypted at rest any more: auth %v", auth)
		}
		if lastRun, _ := data["lastRun"].(map[string]any); lastRun["status"] != "ok" {
			t.Fatalf("the run is not recorded in the account: data %v", data)
		}
	})
	t.Run("a refused token is LOGIN_FAILED", func(t *testing.T) {
		before := tripWrites()
		r := job(t, stack.CreateAccount(t, account(samples.URL, "unknown-token")))
		r.failedWith(t, "LOGIN_FAILED")
		if after := tripWrites(); after != before {
			t.Fatalf("%d trip writes with a refused token", after-before)
		}
	})
	t.Run("a server down is VENDOR_DOWN", func(t *testing.T) {
		job(t, stack.CreateAccount(t, account(downServer.URL, "sample-user"))).failedWith(t, "VENDOR_DOWN")
	})
}

// nodeForTest returns the path of node, or skips the test without it (fails when CI is set).
func nodeForTest(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed (CI is set, so this is a failure): the konnector package runs under Node.js")
		}
		t.Skip("node is not installed: the konnector package runs under Node.js")
	}
	return node
}

// buildPackage runs connector/cozy/package.sh, as make konnector does, and returns the tarball.
func buildPackage(t *testing.T) string {
	t.Helper()
	goCmd := os.Getenv("GO") // as make passes it
	if goCmd == "" {
		var err error
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Fatalf("the go command builds the package: %v", err)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("cozy", "package.sh"), out)
	cmd.Env = append(os.Environ(), "GO="+goCmd)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	tarballs, _ := filepath.Glob(filepath.Join(out, "*.tar.gz"))
	if len(tarballs) != 1 {
		t.Fatalf("package.sh made %v, want one tarball", tarballs)
	}
	return tarballs[0]
}

// checkTarball checks the package as the apps registry reads a version (cozy-apps-registry
// registry/registry.go, ReadTarballVersion and its checks) and returns its manifest: at most 20
// MiB, a manifest.konnector at the root with a slug, an editor and a version, the same version in
// package.json; and the files the Node.js runner needs.
func checkTarball(t *testing.T, tarball string) []byte {
	t.Helper()
	info, err := os.Stat(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > maxRegistryTarball {
		t.Errorf("the tarball is %d bytes, over the registry's %d", info.Size(), maxRegistryTarball)
	}
	files := readTarball(t, tarball)
	manifest := files["manifest.konnector"]
	var m, pkg struct{ Slug, Editor, Version, Language, Main string }
	if err := json.Unmarshal(manifest, &m); err != nil || m.Slug == "" || m.Editor == "" || m.Version == "" {
		t.Fatalf("manifest.konnector at the tarball's root: %+v, %v", m, err)
	}
	if err := json.Unmarshal(files["package.json"], &pkg); err != nil || pkg.Version != m.Version {
		t.Fatalf("package.json version %q, want the manifest's %q (%v)", pkg.Version, m.Version, err)
	}
	if m.Language != "node" || pkg.Main != "index.js" || files["index.js"] == nil || files["connector"] == nil {
		t.Fatalf("the package does not run under the stock Node.js runner: language %q, main %q, files %v", m.Language, pkg.Main, keys(files))
	}
	return manifest
}

// readTarball returns the regular files of a .tar.gz by name.
func readTarball(t *testing.T, tarball string) map[string][]byte {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[path.Clean(hdr.Name)] = b
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// jobResult is what a packaged konnector's job gave the stack.
type jobResult struct {
	exit           int
	lines          []map[string]any
	stdout, stderr string
}

// runPackage unpacks the tarball into a new folder as the stack does (worker/exec/konnector.go,
// extractTar: every file 0640) and runs node on it with only env, in its own process group, from
// another directory (the stack sets no working directory). It fails the test when a stdout line
// is not a JSON object with a type and a message, or when secret shows in the output.
func runPackage(t *testing.T, node, tarball string, env []string, secret string) jobResult {
	t.Helper()
	work := t.TempDir()
	for name, content := range readTarball(t, tarball) {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, work)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := jobResult{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("node %s: %v", work, err)
		}
		r.exit = exit.ExitCode()
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("the token shows in the job's output:\n%s\n%s", r.stdout, r.stderr)
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stdout line %q is not JSON: the stack reads one JSON object per line\nstderr: %s", sc.Text(), r.stderr)
		}
		if _, ok := line["type"].(string); !ok || line["message"] == nil {
			t.Fatalf("stdout line %q lacks a type or a message", sc.Text())
		}
		r.lines = append(r.lines, line)
	}
	return r
}

// succeeded fails the test unless the job ended as the stack counts a success: exit 0 and no
// "error" or "critical" line (worker/exec/konnector.go, ScanOutput and Error).
func (r jobResult) succeeded(t *testing.T) {
	t.Helper()
	if r.exit != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.exit, r.stdout, r.stderr)
	}
	for _, l := range r.lines {
		if l["type"] == "error" || l["type"] == "critical" {
			t.Fatalf("a successful job wrote %v: the stack would take it for the job's error\nstdout: %s", l, r.stdout)
		}
	}
}

// failedWith fails the test unless the job's error, as the stack reads it (the last critical
// line), is code, with a non-zero exit.
func (r jobResult) failedWith(t *testing.T, code string) {
	t.Helper()
	last := ""
	for _, l := range r.lines {
		if l["type"] == "critical" {
			last, _ = l["message"].(string)
		}
	}
	if last != code || r.exit == 0 {
		t.Fatalf("exit %d, error %q; want %s and a non-zero exit\nstdout: %s\nstderr: %s", r.exit, last, code, r.stdout, r.stderr)
	}
}

// countTrips counts the trips of the instance and their sections (the FeatureCollections of each
// trip's series).
func countTrips(t *testing.T, db *vault.DB) (trips, sections int) {
	t.Helper()
	docs, err := vault.FindAll[struct {
		Series []struct {
			Features []struct {
				Type string `json:"type"`
			} `json:"features"`
		} `json:"series"`
	}](context.Background(), db, vault.Query{Selector: map[string]any{"captureDevice": "pixel"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		for _, fc := range d.Series {
			for _, f := range fc.Features {
				if f.Type == "FeatureCollection" {
					sections++
				}
			}
		}
	}
	return len(docs), sections
}

// homeRead reads an account as the Home app does (credentials not decrypted).
func homeRead(t *testing.T, stack *vaulttest.CozyStack, id string) map[string]any {
	t.Helper()
	v, err := vault.OpenCozy(context.Background(), stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := v.DB(context.Background(), vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if _, err := db.Get(context.Background(), id, &got); err != nil {
		t.Fatal(err)
	}
	return got
}
