// Package netguard keeps the app's process from connecting anywhere but to
// the hosts it was told to allow: the research collectors the person has an
// active consent for.
//
// A [Guard] holds the allowed hosts and dials for the HTTP clients it is
// given to, explicitly:
//
//	g := netguard.New()
//	restore := g.Install()      // DNS goes through g
//	g.AllowURL(vaultServerURL)  // a CouchDB vault, if any
//	v, err := vault.Open(ctx, dsn, instance, vault.WithTransport(g.Transport()))
//	collectors := &http.Client{Transport: g.Transport()}
//	g.SetAllowed("collectors", collectorURLsOfActiveConsents) // on each consent change
//
// Nothing is allowed by default, not even loopback ([Guard.AllowLoopback] is
// for tests). A refused connection fails with an error matching [ErrBlocked]
// before any packet leaves: for a host name, before it is even resolved, so
// that no DNS query names it. Revoking a host closes the connections open to
// it, idle keep-alive ones included, so that revocation takes effect at once.
//
// # What Install covers, and what it cannot
//
// Every HTTP client of the app is given [Guard.Transport]: the guard never
// replaces http.DefaultTransport, so which transport a client uses does not
// depend on the order of calls. [Guard.Install] is a net for the rest: it
// makes net.DefaultResolver use the pure-Go resolver with a dialer that
// refuses every DNS server the guard has not been explicitly allowed (by IP):
// the guard resolves the names it allows itself, with its own resolver.
//
// So, after Install, any connection by host name fails at name resolution,
// whoever dials it: http.Get, net.Dial, a net.Dialer of some package, an
// http.Transport built from scratch all resolve names through
// net.DefaultResolver. What Install cannot cover: names that /etc/hosts
// resolves without DNS (localhost), and a connection to an IP address
// literal through any transport but the guard's (http.DefaultTransport
// included: only the guard's transports check IP addresses); a resolver of a
// package's own (a net.Resolver with its own Dial, or the cgo resolver); UDP
// sent with net.ListenPacket; raw syscalls; child processes. Install changes
// a process-wide variable: call it once, at start up, before any goroutine
// uses the network.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Error is the type of the package's sentinel errors.
type Error string

// Error returns the sentinel's message.
func (e Error) Error() string { return string(e) }

// ErrBlocked matches the error of a connection the guard refused; the
// message names the network and the address.
const ErrBlocked Error = "netguard: connection blocked"

// anyPort stands for every port of a host allowed without one.
const anyPort = ""

// recentBlocked is how many refused addresses [Stats] keeps.
const recentBlocked = 32

// dialTimeout bounds one connection attempt, like http.DefaultTransport's dialer.
const dialTimeout = 30 * time.Second

// Guard allows connections to some hosts and refuses every other. The zero
// value is not usable: use [New]. It is safe for concurrent use.
type Guard struct {
	mu       sync.Mutex
	groups   map[string]*allowSet // by group; "" for Allow's
	loopback bool
	conns    map[*conn]struct{}
	recent   []string
	logger   *slog.Logger

	blocked atomic.Int64
	dialed  atomic.Int64
	cut     atomic.Int64

	dialer *net.Dialer
	// lookup resolves an allowed host name; tests replace it.
	lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// New returns a guard that allows nothing.
func New() *Guard {
	g := &Guard{
		groups: map[string]*allowSet{},
		conns:  map[*conn]struct{}{},
		dialer: &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
	}
	// The guard's own resolver talks to the system's DNS servers directly:
	// it is only ever asked about names the guard allows.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}}
	g.lookup = resolver.LookupNetIP
	return g
}

// SetLogger makes the guard log every refused connection (network and
// address) at level Warn. nil stops logging.
func (g *Guard) SetLogger(l *slog.Logger) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.logger = l
}

// hostPort is a parsed allowance: a normalized host name or an IP address,
// and a port or anyPort.
type hostPort struct {
	name string
	ip   netip.Addr
	port string
}

func (h hostPort) String() string {
	host := h.name
	if h.ip.IsValid() {
		host = h.ip.String()
	}
	if h.port == anyPort {
		return host
	}
	return net.JoinHostPort(host, h.port)
}

// parseAllowance reads "host", "host:port", "[v6]:port" or "v6".
func parseAllowance(s string) (hostPort, error) {
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@ ") {
		return hostPort{}, fmt.Errorf("netguard: %q: want host or host:port (see AllowURL for a URL)", s)
	}
	host, port := s, anyPort
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return hostPort{}, fmt.Errorf("netguard: %q: invalid port %q", s, p)
		}
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	hp, err := parseHost(host)
	if err != nil {
		return hostPort{}, fmt.Errorf("netguard: %q: %w", s, err)
	}
	hp.port = port
	return hp, nil
}

// parseHost normalizes a host: an IP address (IPv4-mapped IPv6 unmapped), or
// a lower-case host name without trailing dot.
func parseHost(host string) (hostPort, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return hostPort{}, errors.New("IPv6 zones are not supported")
		}
		return hostPort{ip: ip.Unmap()}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "" || len(name) > 253 {
		return hostPort{}, errors.New("empty or too long host name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return hostPort{}, fmt.Errorf("invalid host name %q", host)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return hostPort{}, fmt.Errorf("invalid host name %q (use its ASCII, punycode form)", host)
			}
		}
	}
	return hostPort{name: name}, nil
}

// hostOfURL returns the host:port of an http(s) URL, with the scheme's
// default port.
func hostOfURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("netguard: %q: want an http:// or https:// URL", raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// allowSet is one group of allowances.
type allowSet struct {
	names map[string]map[string]bool     // host name -> ports (anyPort: all)
	ips   map[netip.Addr]map[string]bool // IP address -> ports
}

func newAllowSet() *allowSet {
	return &allowSet{names: map[string]map[string]bool{}, ips: map[netip.Addr]map[string]bool{}}
}

// add records an allowance.
func (a *allowSet) add(hp hostPort) {
	if hp.ip.IsValid() {
		if a.ips[hp.ip] == nil {
			a.ips[hp.ip] = map[string]bool{}
		}
		a.ips[hp.ip][hp.port] = true
		return
	}
	if a.names[hp.name] == nil {
		a.names[hp.name] = map[string]bool{}
	}
	a.names[hp.name][hp.port] = true
}

// revoke removes an allowance: one port, or the whole host for anyPort.
func (a *allowSet) revoke(hp hostPort) {
	if hp.ip.IsValid() {
		revokePort(a.ips, hp.ip, hp.port)
	} else {
		revokePort(a.names, hp.name, hp.port)
	}
}

// Allow allows connections to host: "host:port" allows that port only,
// "host" every port. host is a host name or an IP address ("[::1]:443",
// "::1"). A host name allows the addresses it resolves to when connecting by
// that name; an IP address allows connecting to it by address, and to it as
// the resolution of an allowed name.
func (g *Guard) Allow(host string) error {
	hp, err := parseAllowance(host)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups[""] == nil {
		g.groups[""] = newAllowSet()
	}
	g.groups[""].add(hp)
	return nil
}

// AllowURL allows the host and port of an http:// or https:// URL (port 80
// or 443 when the URL gives none), e.g. a study's collector URL.
func (g *Guard) AllowURL(rawURL string) error {
	hp, err := hostOfURL(rawURL)
	if err != nil {
		return err
	}
	return g.Allow(hp)
}

// Revoke withdraws an allowance, from every group (see [Guard.SetAllowed]):
// "host:port" that port, "host" every port of the host. Connections open to
// what is no longer allowed are closed, idle keep-alive connections of HTTP
// transports included: a revoked host is reached neither by new connections
// nor by old ones.
func (g *Guard) Revoke(host string) error {
	hp, err := parseAllowance(host)
	if err != nil {
		return err
	}
	g.mu.Lock()
	for _, set := range g.groups {
		set.revoke(hp)
	}
	doomed := g.disallowedConns()
	g.mu.Unlock()
	g.closeAll(doomed)
	return nil
}

// revokePort removes port (or every port) of key from m.
func revokePort[K comparable](m map[K]map[string]bool, key K, port string) {
	if port == anyPort {
		delete(m, key)
		return
	}
	delete(m[key], port)
	if len(m[key]) == 0 {
		delete(m, key)
	}
}

// RevokeURL withdraws the allowance of an http:// or https:// URL's host and
// port (see [Guard.Revoke]).
func (g *Guard) RevokeURL(rawURL string) error {
	hp, err := hostOfURL(rawURL)
	if err != nil {
		return err
	}
	return g.Revoke(hp)
}

// SetAllowed replaces the allowances of a group with hosts (each as for
// [Guard.Allow], or an http(s):// URL as for [Guard.AllowURL]), at once, and
// closes the connections no longer allowed. A host is allowed when any group
// allows it; [Guard.Allow] adds to the group "". Recomputing the group
// "collectors" from the active consents on each change avoids revoking a
// host that another consent still needs, and leaves the other groups (the
// vault's server...) alone. On an invalid host it changes nothing.
func (g *Guard) SetAllowed(group string, hosts []string) error {
	set := newAllowSet()
	for _, h := range hosts {
		if strings.Contains(h, "://") {
			var err error
			if h, err = hostOfURL(h); err != nil {
				return err
			}
		}
		hp, err := parseAllowance(h)
		if err != nil {
			return err
		}
		set.add(hp)
	}
	g.mu.Lock()
	g.groups[group] = set
	doomed := g.disallowedConns()
	g.mu.Unlock()
	g.closeAll(doomed)
	return nil
}

// Allowed returns the allowances of every group, sorted ("host" for every port).
func (g *Guard) Allowed() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, set := range g.groups {
		for name, ports := range set.names {
			for p := range ports {
				out = append(out, hostPort{name: name, port: p}.String())
			}
		}
		for ip, ports := range set.ips {
			for p := range ports {
				out = append(out, hostPort{ip: ip, port: p}.String())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AllowLoopback allows (or stops allowing) every loopback address and the
// name "localhost", on every port: for tests that run servers on 127.0.0.1.
// Turning it off closes the loopback connections not otherwise allowed.
func (g *Guard) AllowLoopback(allow bool) {
	g.mu.Lock()
	g.loopback = allow
	doomed := g.disallowedConns()
	g.mu.Unlock()
	g.closeAll(doomed)
}

// Stats are the guard's counters.
type Stats struct {
	// Blocked counts refused connection attempts (DNS lookups of other code
	// included, after Install).
	Blocked int64
	// Dialed counts connections opened.
	Dialed int64
	// Cut counts open connections closed by a revocation.
	Cut int64
	// Recent holds the last refused attempts, "network address", oldest first.
	Recent []string
}

// Stats returns the guard's counters.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	recent := slices.Clone(g.recent)
	g.mu.Unlock()
	return Stats{Blocked: g.blocked.Load(), Dialed: g.dialed.Load(), Cut: g.cut.Load(), Recent: recent}
}

// block counts and logs a refusal and returns its error.
func (g *Guard) block(network, addr, reason string) error {
	g.blocked.Add(1)
	g.mu.Lock()
	g.recent = append(g.recent, network+" "+addr)
	if len(g.recent) > recentBlocked {
		g.recent = slices.Delete(g.recent, 0, len(g.recent)-recentBlocked)
	}
	logger := g.logger
	g.mu.Unlock()
	if logger != nil {
		logger.Warn("netguard: connection blocked", "network", network, "address", addr, "reason", reason)
	}
	return fmt.Errorf("%w: %s %s: %s", ErrBlocked, network, addr, reason)
}

// isLocal reports whether ip reaches this machine: loopback, or unspecified
// (connecting to 0.0.0.0 or :: reaches the local host).
func isLocal(ip netip.Addr) bool { return ip.IsLoopback() || ip.IsUnspecified() }

// isLocalName reports whether name is "localhost" or one of its subdomains.
func isLocalName(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// ipAllowed reports whether ip:port is allowed by address; g.mu is held.
func (g *Guard) ipAllowed(ip netip.Addr, port string) bool {
	return g.loopback && isLocal(ip) || g.explicitIP(ip, port)
}

// explicitIP reports whether ip:port is allowed by an allowance of an
// address, loopback mode aside; g.mu is held.
func (g *Guard) explicitIP(ip netip.Addr, port string) bool {
	for _, set := range g.groups {
		if ports := set.ips[ip]; ports[anyPort] || ports[port] {
			return true
		}
	}
	return false
}

// nameAllowed reports whether name:port is allowed by name; g.mu is held.
func (g *Guard) nameAllowed(name, port string) bool {
	if g.loopback && isLocalName(name) {
		return true
	}
	for _, set := range g.groups {
		if ports := set.names[name]; ports[anyPort] || ports[port] {
			return true
		}
	}
	return false
}

// resolvedAllowed reports whether ip, an address of the allowed name, may be
// dialed; g.mu is held. A name allowed as such may resolve to any address
// but a local or link-local one (DNS rebinding onto this machine or its
// network's metadata services), unless that address is allowed too, or the
// name is localhost.
func (g *Guard) resolvedAllowed(name string, ip netip.Addr, port string) bool {
	switch {
	case g.ipAllowed(ip, port):
		return true
	case isLocal(ip):
		return isLocalName(name)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return false
	}
	return true
}

// allowedConn reports whether a connection to host (a name, or "" when
// dialed by address) and ip:port is still allowed; g.mu is held.
func (g *Guard) allowedConn(c *conn) bool {
	if c.name == "" {
		return g.ipAllowed(c.ip, c.port)
	}
	return g.nameAllowed(c.name, c.port) && g.resolvedAllowed(c.name, c.ip, c.port)
}

// disallowedConns returns the open connections no longer allowed; g.mu is held.
func (g *Guard) disallowedConns() []*conn {
	var out []*conn
	for c := range g.conns {
		if !g.allowedConn(c) {
			out = append(out, c)
		}
	}
	return out
}

func (g *Guard) closeAll(conns []*conn) {
	for _, c := range conns {
		g.cut.Add(1)
		_ = c.Close()
	}
}

// DialContext connects to addr ("host:port") on network (tcp, tcp4, tcp6,
// udp, udp4, udp6) if the guard allows it, and refuses with an error matching
// [ErrBlocked] otherwise, before any packet is sent. A host name must be
// allowed by name before it is resolved, by the guard's own resolver; then
// each address it resolves to is checked (see [Guard.Allow]).
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var family string
	switch network {
	case "tcp", "udp":
		family = "ip"
	case "tcp4", "udp4":
		family = "ip4"
	case "tcp6", "udp6":
		family = "ip6"
	default:
		return nil, g.block(network, addr, "only TCP and UDP connections are guarded, others are refused")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, g.block(network, addr, "not a host:port address")
	}
	hp, err := parseHost(host)
	if err != nil {
		return nil, g.block(network, addr, err.Error())
	}
	if hp.ip.IsValid() {
		g.mu.Lock()
		ok := g.ipAllowed(hp.ip, port)
		g.mu.Unlock()
		if !ok {
			return nil, g.block(network, addr, "not an allowed address")
		}
		return g.dial(ctx, network, &conn{ip: hp.ip, port: port}, addr)
	}
	g.mu.Lock()
	ok := g.nameAllowed(hp.name, port)
	g.mu.Unlock()
	if !ok {
		return nil, g.block(network, addr, "not an allowed host (not resolved)")
	}
	ips, err := g.lookup(ctx, family, hp.name)
	if err != nil {
		return nil, fmt.Errorf("netguard: resolve %s: %w", hp.name, err)
	}
	var refused []string
	var lastErr error
	for _, ip := range ips {
		ip = ip.Unmap()
		g.mu.Lock()
		ok := g.resolvedAllowed(hp.name, ip, port)
		g.mu.Unlock()
		if !ok {
			refused = append(refused, ip.String())
			continue
		}
		c, err := g.dial(ctx, network, &conn{name: hp.name, ip: ip, port: port}, addr)
		if err == nil || errors.Is(err, ErrBlocked) || ctx.Err() != nil {
			return c, err
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if len(refused) > 0 {
		return nil, g.block(network, addr, "resolves to "+strings.Join(refused, ", ")+", a local or link-local address that is not allowed")
	}
	return nil, fmt.Errorf("netguard: resolve %s: no address", hp.name)
}

// dial connects to c's address and registers the connection, unless the
// guard changed its mind meanwhile.
func (g *Guard) dial(ctx context.Context, network string, c *conn, addr string) (net.Conn, error) {
	raw, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(c.ip.String(), c.port))
	if err != nil {
		return nil, err
	}
	c.Conn, c.g = raw, g
	g.mu.Lock()
	ok := g.allowedConn(c)
	if ok {
		g.conns[c] = struct{}{}
	}
	g.mu.Unlock()
	if !ok { // revoked while connecting
		_ = raw.Close()
		return nil, g.block(network, addr, "revoked while connecting")
	}
	g.dialed.Add(1)
	return c, nil
}

// conn is a connection the guard opened; it forgets it when closed.
type conn struct {
	net.Conn
	g    *Guard
	name string // "" when dialed by address
	ip   netip.Addr
	port string
	once sync.Once
}

// Close closes the connection and unregisters it.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.g.mu.Lock()
		delete(c.g.conns, c)
		c.g.mu.Unlock()
	})
	return err
}

// Transport returns a new transport that dials through the guard and uses no proxy, whatever
// HTTP_PROXY and HTTPS_PROXY say (a proxy would be a connection to an unconsented host). It takes
// the tuning of http.DefaultTransport (timeouts, pool sizes, TLS configuration, HTTP/2), or its
// defaults when http.DefaultTransport is not an *http.Transport, and none of its dialers, proxy
// or proxy hooks: built field by field rather than cloned, it cannot inherit a way around the
// guard, not even one that a later Go release adds to http.Transport.
func (g *Guard) Transport() *http.Transport {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		base = &http.Transport{
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t := &http.Transport{
		DialContext:            g.DialContext, // TLS runs over the guarded connection
		TLSHandshakeTimeout:    base.TLSHandshakeTimeout,
		DisableKeepAlives:      base.DisableKeepAlives,
		DisableCompression:     base.DisableCompression,
		MaxIdleConns:           base.MaxIdleConns,
		MaxIdleConnsPerHost:    base.MaxIdleConnsPerHost,
		MaxConnsPerHost:        base.MaxConnsPerHost,
		IdleConnTimeout:        base.IdleConnTimeout,
		ResponseHeaderTimeout:  base.ResponseHeaderTimeout,
		ExpectContinueTimeout:  base.ExpectContinueTimeout,
		MaxResponseHeaderBytes: base.MaxResponseHeaderBytes,
		ForceAttemptHTTP2:      base.ForceAttemptHTTP2,
		WriteBufferSize:        base.WriteBufferSize,
		ReadBufferSize:         base.ReadBufferSize,
	}
	if base.TLSClientConfig != nil {
		t.TLSClientConfig = base.TLSClientConfig.Clone()
	}
	if base.HTTP2 != nil {
		h2 := *base.HTTP2
		t.HTTP2 = &h2
	}
	if base.Protocols != nil {
		p := *base.Protocols
		t.Protocols = &p
	}
	return t
}

// Install makes the process resolve host names through the guard (see the
// package documentation for what it covers and cannot): net.DefaultResolver
// uses the pure-Go resolver with a dialer that refuses every DNS server not
// explicitly allowed by IP. It leaves http.DefaultTransport alone: give HTTP
// clients [Guard.Transport]. It returns a function that puts back what it
// replaced, for tests. Call it at start up, before any goroutine uses the
// network.
func (g *Guard) Install() (restore func()) {
	prevPreferGo, prevDial := net.DefaultResolver.PreferGo, net.DefaultResolver.Dial
	net.DefaultResolver.PreferGo = true
	net.DefaultResolver.Dial = g.dialDNS
	return func() {
		net.DefaultResolver.PreferGo, net.DefaultResolver.Dial = prevPreferGo, prevDial
	}
}

// dialDNS is net.DefaultResolver's dialer after Install: it reaches a DNS
// server only if that server's address is explicitly allowed (loopback
// servers included, whatever AllowLoopback says).
func (g *Guard) dialDNS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, g.block(network, addr, "DNS: not a host:port address")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, g.block(network, addr, "DNS: the server is not an IP address")
	}
	ip = ip.Unmap()
	g.mu.Lock()
	ok := g.explicitIP(ip, port)
	g.mu.Unlock()
	if !ok {
		return nil, g.block(network, addr, "DNS lookups outside the guard are refused (the guard resolves the hosts it allows)")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
