package websec

import (
	"net"
	"net/http"
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/coachco2/coachco2/pkg/ratelimit"
)

// limiter allows each key max attempts at once, and max per window on average (a token bucket
// that refills in window).
type limiter struct{ keys *ratelimit.Keyed }

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{keys: ratelimit.New(rate.Limit(float64(max)/window.Seconds()), max)}
}

// allow counts an attempt of key at now, and reports whether it is allowed;
// when not, it says when the next one will be.
func (l *limiter) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	return l.keys.Allow(key, now)
}

// reset forgets key's attempts.
func (l *limiter) reset(key string) { l.keys.Forget(key) }

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
