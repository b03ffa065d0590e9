// Package vaulttest gives tests a CouchDB-protocol server to run the vault
// against: the Apache CouchDB named by the environment variable COUCHDB_URL
// when it is set, otherwise a pouchdb-server started in memory on a free
// loopback port, once per test binary, and stopped when the tests end.
//
// pouchdb-server differs from CouchDB in its ETags, which kivik's CouchDB
// driver reads document revisions from: it is reached through a proxy in the
// test binary that answers with CouchDB's ETags (etags.go), so that the
// vault's production code needs no workaround for it.
//
// pouchdb-server is installed by "make test" (npm ci in .ci/pouchdb-server).
// When it is missing, the tests that need it are skipped, except when the
// environment variable CI is set: there they fail.
//
// Use it from TestMain:
//
//	var couch = vaulttest.NewServer()
//
//	func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }
//
// and call couch.URL(t) in the tests that need the server.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/proccpu"
)

// EnvCouchDBURL names the environment variable that points the tests at an
// Apache CouchDB 3 server, e.g. http://admin:password@127.0.0.1:5984/.
const EnvCouchDBURL = "COUCHDB_URL"

// pouchdbBin is the pouchdb-server launcher, relative to the module root.
const pouchdbBin = ".ci/pouchdb-server/node_modules/.bin/pouchdb-server"

// startTimeout bounds the wait for pouchdb-server to answer.
const startTimeout = 90 * time.Second

// Server is the CouchDB-protocol server of a test binary. The zero value is
// not usable: use [NewServer].
type Server struct {
	once    sync.Once
	url     string
	proxy   *httptest.Server // before pouchdb-server: see couchETags
	skip    string           // why the server is not available (not installed)
	err     error            // why the server failed to start
	cmd     *exec.Cmd
	exited  chan struct{}
	dir     string
	stopped bool
}

// NewServer returns a server that starts on the first call to [Server.URL].
func NewServer() *Server { return &Server{} }

// CPU is the CPU time the pouchdb-server process has used so far. ok is false when this binary
// started none (the embedded store works in the test's own process; a CouchDB given by
// COUCHDB_URL runs elsewhere) or its CPU time cannot be read (outside Linux). Benchmarks use it
// to say how much of the machine's cores the server took.
func (s *Server) CPU() (cpu time.Duration, ok bool) {
	if s.cmd == nil || s.stopped {
		return 0, false
	}
	cpu, err := proccpu.Of(s.cmd.Process.Pid)
	return cpu, err == nil
}

// Name names the kind of server the tests run against: "couchdb" when
// COUCHDB_URL is set, "pouchdb-server" otherwise. It starts nothing.
func Name() string {
	if os.Getenv(EnvCouchDBURL) != "" {
		return "couchdb"
	}
	return "pouchdb-server"
}

// Run runs the tests and stops the server, if one was started. It returns
// the exit code for os.Exit.
func (s *Server) Run(m *testing.M) int {
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "vaulttest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// URL returns the server's URL (with credentials for COUCHDB_URL), starting
// pouchdb-server on first use. It skips the test when pouchdb-server is not
// installed, or fails it when CI is set; it fails the test when the server
// could not start.
func (s *Server) URL(t testing.TB) string {
	t.Helper()
	s.once.Do(s.start)
	switch {
	case s.skip != "" && os.Getenv("CI") != "":
		t.Fatalf("%s (CI is set, so this is a failure)", s.skip)
	case s.skip != "":
		t.Skip(s.skip)
	case s.err != nil:
		t.Fatal(s.err)
	}
	return s.url
}

func (s *Server) start() {
	if u := os.Getenv(EnvCouchDBURL); u != "" {
		s.url = u
		return
	}
	root, err := moduleRoot()
	if err != nil {
		s.err = err
		return
	}
	bin := filepath.Join(root, filepath.FromSlash(pouchdbBin))
	if _, err := os.Stat(bin); err != nil {
		s.skip = fmt.Sprintf("pouchdb-server is not installed at %s: run make test, which installs it (or set %s)", bin, EnvCouchDBURL)
		return
	}
	if _, err := exec.LookPath("node"); err != nil {
		s.skip = "node is not installed, so pouchdb-server cannot run: install Node.js and run make test (or set " + EnvCouchDBURL + ")"
		return
	}
	// Its working directory receives its config.json and log.txt.
	s.dir, err = os.MkdirTemp("", "vaulttest-pouchdb-")
	if err != nil {
		s.err = fmt.Errorf("vaulttest: %w", err)
		return
	}
	for attempt := 1; attempt <= 3; attempt++ {
		s.err = s.launch(bin)
		if s.err == nil {
			return
		}
	}
}

// launch starts pouchdb-server on a free port and waits until it answers.
func (s *Server) launch(bin string) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("vaulttest: find a free port: %w", err)
	}
	out, err := os.Create(filepath.Join(s.dir, "output.txt"))
	if err != nil {
		return fmt.Errorf("vaulttest: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "--in-memory", "--no-stdout-logs", "--host", "127.0.0.1",
		"--port", strconv.Itoa(port), "--config", filepath.Join(s.dir, "config.json"))
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("vaulttest: start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("vaulttest: pouchdb-server exited at start: %s", s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
		if answers(url) {
			s.proxy, err = couchETags(url)
			if err != nil {
				_ = s.kill()
				return err
			}
			s.url = s.proxy.URL + "/"
			return nil
		}
	}
	_ = s.kill()
	return fmt.Errorf("vaulttest: pouchdb-server did not answer on %s within %s: %s", url, startTimeout, s.logTail())
}

// Stop stops pouchdb-server (its whole process group) and removes its
// working directory. It does nothing for COUCHDB_URL or when no server was
// started.
func (s *Server) Stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	if s.proxy != nil {
		s.proxy.Close()
	}
	var err error
	if s.cmd != nil {
		err = s.kill()
	}
	if s.dir != "" {
		if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
			err = rmErr
		}
	}
	return err
}

func (s *Server) kill() error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := signalGroup(s.cmd.Process, sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("vaulttest: stop pouchdb-server: %w", err)
		}
		select {
		case <-s.exited:
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	return errors.New("vaulttest: pouchdb-server did not stop")
}

// logTail returns the end of pouchdb-server's output and log, for messages.
func (s *Server) logTail() string {
	var all []byte
	for _, name := range []string{"output.txt", "log.txt"} {
		b, _ := os.ReadFile(filepath.Join(s.dir, name))
		all = append(all, b...)
	}
	all = bytes.TrimSpace(all)
	if len(all) > 2000 {
		all = all[len(all)-2000:]
	}
	if len(all) == 0 {
		return "(no output)"
	}
	return string(all)
}

// answers reports whether a CouchDB-protocol server answers GET / at url.
func answers(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot returns the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("vaulttest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vaulttest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Instance returns an instance name (Cozy prefix) unique to this test and
// run, so that tests sharing a server never see each other's databases.
func Instance(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		default:
			return '-'
		}
	}, t.Name())
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return "vt" + hex.EncodeToString(b[:]) + "-" + strings.Trim(name, "-")
}
