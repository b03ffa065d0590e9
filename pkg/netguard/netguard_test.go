package netguard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listener is a TCP listener on 127.0.0.1 that counts the connections it
// accepts and echoes what they send.
type listener struct {
	net.Listener
	accepted atomic.Int64
	probes   atomic.Int64 // connections of wantNoAccept, counted in accepted
	conns    chan net.Conn
}

func listen(t *testing.T) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{Listener: ln, conns: make(chan net.Conn, 16)}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			l.conns <- c
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return l
}

func (l *listener) port() string { return fmt.Sprint(l.Addr().(*net.TCPAddr).Port) }

// wantNoAccept checks that no connection reached the listener since the
// last wantAccept, without waiting for nothing to happen: it connects once
// itself, and that connection must be the next one accepted (a listener
// accepts connections in the order they were established).
func (l *listener) wantNoAccept(t *testing.T) {
	t.Helper()
	probe, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	l.probes.Add(1)
	select {
	case c := <-l.conns:
		if c.RemoteAddr().String() != probe.LocalAddr().String() {
			t.Fatalf("%s accepted a connection from %s", l.Addr(), c.RemoteAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not accept the probe", l.Addr())
	}
}

// wantAccept waits for one connection to reach the listener.
func (l *listener) wantAccept(t *testing.T) {
	t.Helper()
	select {
	case <-l.conns:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s accepted nothing", l.Addr())
	}
}

// stubLookup makes g resolve names from table, and counts the lookups.
func stubLookup(g *Guard, table map[string][]string) *atomic.Int64 {
	var n atomic.Int64
	g.lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		n.Add(1)
		var out []netip.Addr
		for _, a := range table[host] {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
	return &n
}

func wantBlocked(t *testing.T, err error, addr string) {
	t.Helper()
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("want an error matching ErrBlocked, got %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Fatalf("the error %q should name %s", err, addr)
	}
}

func echo(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

func TestBlockedHostOpensNoConnection(t *testing.T) {
	ctx := t.Context()
	allowed, other := listen(t), listen(t)
	g := New()
	lookups := stubLookup(g, map[string][]string{"localhost": {"127.0.0.1"}})

	// Nothing is allowed, loopback included.
	for _, addr := range []string{other.Addr().String(), "localhost:" + other.port(), "[::ffff:127.0.0.1]:" + other.port(), "0.0.0.0:" + other.port()} {
		_, err := g.DialContext(ctx, "tcp", addr)
		wantBlocked(t, err, addr)
	}
	if lookups.Load() != 0 {
		t.Fatal("a refused host name was resolved")
	}
	other.wantNoAccept(t)

	if err := g.Allow(allowed.Addr().String()); err != nil {
		t.Fatal(err)
	}
	c, err := g.DialContext(ctx, "tcp", allowed.Addr().String())
	if err != nil {
		t.Fatalf("allowed address: %v", err)
	}
	defer c.Close()
	allowed.wantAccept(t)
	echo(t, c)

	// Allowing one port of 127.0.0.1 allows no other.
	_, err = g.DialContext(ctx, "tcp", other.Addr().String())
	wantBlocked(t, err, other.Addr().String())
	other.wantNoAccept(t)
	if n := other.accepted.Load() - other.probes.Load(); n != 0 {
		t.Fatalf("%s accepted %d connections", other.Addr(), n)
	}

	st := g.Stats()
	if st.Blocked != 5 || st.Dialed != 1 || len(st.Recent) != 5 || st.Recent[4] != "tcp "+other.Addr().String() {
		t.Fatalf("stats %+v", st)
	}
}

func TestNamesAreCheckedBeforeResolving(t *testing.T) {
	ctx := t.Context()
	l := listen(t)
	g := New()
	lookups := stubLookup(g, map[string][]string{
		"collector.test": {"127.0.0.1"},
		"other.test":     {"127.0.0.1"},
	})
	// An allowed address does not allow the names that resolve to it.
	if err := g.Allow("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, err := g.DialContext(ctx, "tcp", "other.test:"+l.port())
	wantBlocked(t, err, "other.test:"+l.port())
	if lookups.Load() != 0 {
		t.Fatal("a host name that is not allowed was resolved")
	}

	// An allowed name that resolves onto this machine (DNS rebinding) is
	// refused, unless its address is allowed too.
	if err := g.Revoke("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := g.SetAllowed("collectors", []string{"Collector.Test.:" + l.port()}); err != nil {
		t.Fatal(err)
	}
	_, err = g.DialContext(ctx, "tcp", "collector.test:"+l.port())
	wantBlocked(t, err, "collector.test:"+l.port())
	if !strings.Contains(err.Error(), "resolves to 127.0.0.1") {
		t.Fatalf("error %q should say where the name resolves", err)
	}
	l.wantNoAccept(t)
	if lookups.Load() != 1 {
		t.Fatalf("%d lookups, want 1", lookups.Load())
	}
	if err := g.Allow("127.0.0.1:" + l.port()); err != nil {
		t.Fatal(err)
	}
	c, err := g.DialContext(ctx, "tcp", "COLLECTOR.test:"+l.port())
	if err != nil {
		t.Fatalf("allowed name and address: %v", err)
	}
	l.wantAccept(t)
	echo(t, c)
	c.Close()

	// The name is allowed on its port only.
	_, err = g.DialContext(ctx, "tcp", "collector.test:1")
	wantBlocked(t, err, "collector.test:1")
}

func TestLoopbackOnlyWhenAsked(t *testing.T) {
	ctx := t.Context()
	l := listen(t)
	g := New()
	stubLookup(g, map[string][]string{"localhost": {"127.0.0.1"}, "evil.test": {"127.0.0.1"}})
	_, err := g.DialContext(ctx, "tcp", l.Addr().String())
	wantBlocked(t, err, l.Addr().String())
	g.AllowLoopback(true)
	for _, addr := range []string{l.Addr().String(), "localhost:" + l.port()} {
		c, err := g.DialContext(ctx, "tcp", addr)
		if err != nil {
			t.Fatalf("%s with loopback allowed: %v", addr, err)
		}
		l.wantAccept(t)
		echo(t, c)
		c.Close()
	}
	// Loopback allows loopback, not names that are not localhost.
	_, err = g.DialContext(ctx, "tcp", "evil.test:"+l.port())
	wantBlocked(t, err, "evil.test")
	// Only TCP and UDP.
	_, err = g.DialContext(ctx, "unix", "/run/docker.sock")
	wantBlocked(t, err, "/run/docker.sock")
	// Turning it off closes what it allowed.
	c, err := g.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	l.wantAccept(t)
	g.AllowLoopback(false)
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("a loopback connection survived AllowLoopback(false)")
	}
}

func TestRevokeTakesEffect(t *testing.T) {
	ctx := t.Context()
	l := listen(t)
	g := New()
	if err := g.Allow("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	c, err := g.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	l.wantAccept(t)
	echo(t, c)
	if err := g.Revoke("127.0.0.1:" + l.port()); err != nil {
		t.Fatal(err)
	}
	// Revoking one port of an allowance for every port leaves it.
	if got := g.Allowed(); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Fatalf("Allowed %v", got)
	}
	if err := g.Revoke("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, err = g.DialContext(ctx, "tcp", l.Addr().String())
	wantBlocked(t, err, l.Addr().String())
	l.wantNoAccept(t)
	// The connection open before is closed.
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("x")); err == nil {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("the connection to the revoked host is still open")
		}
	}
	if st := g.Stats(); st.Cut != 1 {
		t.Fatalf("stats %+v, want 1 connection cut", st)
	}
}

// server is an HTTP test server on 127.0.0.1 that counts the connections
// it accepts.
func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, &conns
}

// wantConns checks that the server accepted n connections, without waiting
// for nothing to happen: it makes one more itself, which the server counts
// after every connection established before it (it accepts them in order).
func wantConns(t *testing.T, s *httptest.Server, conns *atomic.Int64, n int64) {
	t.Helper()
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if err := get(probe, s.URL); err != nil {
		t.Fatalf("probe %s: %v", s.URL, err)
	}
	if got := conns.Load() - 1; got != n {
		t.Fatalf("%s accepted %d connections, want %d", s.URL, got, n)
	}
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestTransport(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	allowed, allowedConns := server(t)
	blocked, blockedConns := server(t)
	g := New()
	tr := g.Transport()
	if tr.Proxy != nil {
		t.Fatal("the guard's transport uses a proxy")
	}
	if tr == http.DefaultTransport {
		t.Fatal("Transport returned http.DefaultTransport, not a clone")
	}
	client := &http.Client{Transport: tr}
	if err := g.AllowURL(allowed.URL); err != nil {
		t.Fatal(err)
	}
	if err := get(client, allowed.URL); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	err := get(client, blocked.URL)
	wantBlocked(t, err, strings.TrimPrefix(blocked.URL, "http://"))
	wantConns(t, blocked, blockedConns, 0)

	// After revocation, the keep-alive connection is not reused.
	if err := g.RevokeURL(allowed.URL); err != nil {
		t.Fatal(err)
	}
	err = get(client, allowed.URL)
	wantBlocked(t, err, strings.TrimPrefix(allowed.URL, "http://"))
	wantConns(t, allowed, allowedConns, 1)
}

// TestTransportTakesTuningNotDialers: the guard's transport keeps the tuning and TLS
// configuration of http.DefaultTransport, and none of its dialers, proxy or proxy hooks, each a
// way around the guard.
func TestTransportTakesTuningNotDialers(t *testing.T) {
	allowed := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(allowed.Close)
	blocked := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(blocked.Close)

	var bypassed atomic.Int64
	bypass := func(context.Context, string, string) (net.Conn, error) {
		bypassed.Add(1)
		return nil, errors.New("dialed around the guard")
	}
	roots := allowed.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	before := http.DefaultTransport
	http.DefaultTransport = &http.Transport{
		DialContext:            bypass,
		DialTLSContext:         bypass,
		Proxy:                  func(*http.Request) (*url.URL, error) { bypassed.Add(1); return nil, nil },
		GetProxyConnectHeader:  func(context.Context, *url.URL, string) (http.Header, error) { bypassed.Add(1); return nil, nil },
		OnProxyConnectResponse: func(context.Context, *url.URL, *http.Request, *http.Response) error { bypassed.Add(1); return nil },
		TLSClientConfig:        &tls.Config{RootCAs: roots},
		ResponseHeaderTimeout:  7 * time.Second,
		MaxConnsPerHost:        3,
	}
	t.Cleanup(func() { http.DefaultTransport = before })

	g := New()
	tr := g.Transport()
	if tr.DialTLSContext != nil || tr.Proxy != nil || tr.GetProxyConnectHeader != nil || tr.OnProxyConnectResponse != nil {
		t.Fatal("the guard's transport took a dialer, the proxy or a proxy hook of http.DefaultTransport")
	}
	if tr.ResponseHeaderTimeout != 7*time.Second || tr.MaxConnsPerHost != 3 {
		t.Fatalf("the guard's transport lost the default's tuning: %v, %d", tr.ResponseHeaderTimeout, tr.MaxConnsPerHost)
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig == http.DefaultTransport.(*http.Transport).TLSClientConfig {
		t.Fatal("the guard's transport must have its own copy of the default's TLS configuration")
	}
	client := &http.Client{Transport: tr}
	if err := g.AllowURL(allowed.URL); err != nil {
		t.Fatal(err)
	}
	if err := get(client, allowed.URL); err != nil {
		t.Fatalf("allowed, over TLS with the default's roots: %v", err)
	}
	wantBlocked(t, get(client, blocked.URL), strings.TrimPrefix(blocked.URL, "https://"))
	if n := bypassed.Load(); n != 0 || g.Stats().Dialed != 1 {
		t.Fatalf("%d calls to the default's hooks, %d guarded dials; want 0 and 1", n, g.Stats().Dialed)
	}
}

// TestInstall: after Install, name lookups of other code reach no DNS
// server, and http.DefaultTransport is left alone (clients are given the
// guard's transport).
func TestInstall(t *testing.T) {
	before := http.DefaultTransport
	g := New()
	restore := g.Install()
	defer restore()
	if http.DefaultTransport != before {
		t.Fatal("Install replaced http.DefaultTransport")
	}
	// Other code's DNS lookups reach no DNS server.
	blocked := g.Stats().Blocked
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, "coachco2-netguard-test.example"); err == nil {
		t.Fatal("a lookup outside the guard succeeded")
	}
	if g.Stats().Blocked == blocked {
		t.Fatal("the lookup did not go through the guard")
	}
	// http.Get, and a transport built from scratch, resolve through net.DefaultResolver too.
	for _, c := range []*http.Client{http.DefaultClient, {Transport: &http.Transport{}}} {
		if err := get(c, "http://coachco2-netguard-test.example/"); err == nil {
			t.Fatal("a request by name outside the guard's transport succeeded")
		}
	}

	restore()
	if net.DefaultResolver.Dial != nil || net.DefaultResolver.PreferGo {
		t.Fatal("restore did not put back the defaults")
	}
}

func TestParseAllowances(t *testing.T) {
	g := New()
	for _, ok := range []string{"collector.example.org", "Collector.Example.org.:8443", "192.0.2.1", "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1", "[2001:db8::2]"} {
		if err := g.Allow(ok); err != nil {
			t.Errorf("Allow(%q): %v", ok, err)
		}
	}
	want := []string{"192.0.2.1", "192.0.2.1:443", "2001:db8::1", "2001:db8::2", "[2001:db8::1]:443", "collector.example.org", "collector.example.org:8443"}
	if got := g.Allowed(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Allowed:\n got %v\nwant %v", got, want)
	}
	for _, bad := range []string{"", "https://collector.example.org", "host:0", "host:70000", "host:http", "a b", "*.example.org", "ex@mple.org", "fe80::1%eth0", "-bad.org", "a..b"} {
		if err := g.Allow(bad); err == nil {
			t.Errorf("Allow(%q): accepted", bad)
		}
	}
	if err := g.SetAllowed("", []string{"ok.example", "bad host"}); err == nil || len(g.Allowed()) != len(want) {
		t.Errorf("SetAllowed with an invalid host: %v, and it changed the set to %v", err, g.Allowed())
	}
	if err := g.AllowURL("ftp://x"); err == nil {
		t.Error("AllowURL(ftp://x): accepted")
	}
}

func TestGroups(t *testing.T) {
	ctx := t.Context()
	vaultServer, collector, other := listen(t), listen(t), listen(t)
	g := New()
	if err := g.Allow(vaultServer.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := g.SetAllowed("collectors", []string{"http://" + collector.Addr().String() + "/api/", other.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	dial := func(l *listener) (net.Conn, error) { return g.DialContext(ctx, "tcp", l.Addr().String()) }
	var open []net.Conn
	for _, l := range []*listener{vaultServer, collector, other} {
		c, err := dial(l)
		if err != nil {
			t.Fatalf("%s: %v", l.Addr(), err)
		}
		l.wantAccept(t)
		open = append(open, c)
	}
	// A consent withdrawn: the collectors are recomputed, the vault stays.
	if err := g.SetAllowed("collectors", []string{"http://" + collector.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	_, err := dial(other)
	wantBlocked(t, err, other.Addr().String())
	other.wantNoAccept(t)
	if _, err := open[2].Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection to the withdrawn collector is still open")
	}
	for _, c := range open[:2] {
		echo(t, c) // the others stay open
	}
	if c, err := dial(vaultServer); err != nil {
		t.Fatalf("the vault's server after the collectors changed: %v", err)
	} else {
		c.Close()
	}
	if got := g.Allowed(); len(got) != 2 {
		t.Fatalf("Allowed %v", got)
	}
	// Revoke withdraws from every group.
	if err := g.Revoke(collector.Addr().String()); err != nil {
		t.Fatal(err)
	}
	_, err = dial(collector)
	wantBlocked(t, err, collector.Addr().String())
}

func TestConcurrentUse(t *testing.T) {
	l := listen(t)
	g := New()
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if i%2 == 0 {
					_ = g.Allow(l.Addr().String())
					_ = g.Revoke(l.Addr().String())
				} else if c, err := g.DialContext(ctx, "tcp", l.Addr().String()); err == nil {
					_ = c.Close()
				} else if !errors.Is(err, ErrBlocked) {
					t.Error(err)
				}
				_ = g.Stats()
			}
		})
	}
	wg.Wait()
	st := g.Stats()
	if st.Blocked+st.Dialed != 80 {
		t.Fatalf("stats %+v: every dial is either blocked or dialed", st)
	}
}
