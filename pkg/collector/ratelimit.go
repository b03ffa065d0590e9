package collector

import (
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/coachco2/coachco2/pkg/ratelimit"
)

// limiter is a token bucket per client: each client may make Burst requests at once, and Rate
// per second on average. It lives in memory: a restart forgets it.
type limiter struct {
	keys *ratelimit.Keyed
	now  func() time.Time
}

func newLimiter(r float64, burst int, now func() time.Time) *limiter {
	return &limiter{keys: ratelimit.New(rate.Limit(r), burst), now: now}
}

// allow takes a token from the client's bucket. When there is none, it returns false and how long
// until there is one.
func (l *limiter) allow(client string) (bool, time.Duration) { return l.keys.Allow(client, l.now()) }

// clientKey returns the rate limit's key for a request: the client's IP address (IPv6 addresses
// by their /64, which one subscriber usually has whole). With trustForwarded, the last address of
// X-Forwarded-For, the one the reverse proxy in front of the collector added.
func clientKey(r *http.Request, trustForwarded bool) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if trustForwarded {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				addr = last
			}
		}
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
