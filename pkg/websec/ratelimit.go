package websec

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// maxLimiterKeys bounds the clients the login limiter remembers; beyond it,
// clients without a recent attempt are forgotten.
const maxLimiterKeys = 10_000

// limiter allows at most max attempts per key in any window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, hits: map[string][]time.Time{}}
}

// allow counts an attempt of key at now, and reports whether it is allowed;
// when not, it says when the oldest attempt leaves the window.
func (l *limiter) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) >= maxLimiterKeys {
		for k, h := range l.hits {
			if len(h) == 0 || now.Sub(h[len(h)-1]) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	recent := l.hits[key][:0]
	for _, t := range l.hits[key] {
		if now.Sub(t) < l.window {
			recent = append(recent, t)
		}
	}
	if len(recent) >= l.max {
		l.hits[key] = recent
		return false, recent[0].Add(l.window).Sub(now)
	}
	l.hits[key] = append(recent, now)
	return true, 0
}

// reset forgets key's attempts.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// remoteIP is the default client key of the login limiter: the address of
// the peer, with IPv6 addresses grouped by /64 (one client usually holds a
// whole /64). Behind a reverse proxy every client has the proxy's address,
// so the limit becomes global, which is still safe.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
