package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	kivik "github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"
)

// serverCheckTimeout bounds Open's reachability check when ctx has no deadline.
const serverCheckTimeout = 30 * time.Second

// WithTransport makes the vault send its requests to a CouchDB server or a
// Cozy stack through rt, e.g. the transport of the app's network guard,
// which must then allow the server. Without it, the vault sends them through
// a clone of http.DefaultTransport, with its own connection pool.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// httpClient returns the HTTP client of a vault on a server.
func (o options) httpClient() *http.Client {
	if o.transport != nil {
		return &http.Client{Transport: o.transport}
	}
	var transport http.RoundTripper = http.DefaultTransport
	if t, ok := transport.(*http.Transport); ok {
		transport = t.Clone() // its own connection pool
	}
	return &http.Client{Transport: transport}
}

// openServer connects to a CouchDB server and checks that it answers and
// accepts the credentials.
func openServer(ctx context.Context, loc location, o options) (*kivik.Client, error) {
	opts := []kivik.Option{couchdb.OptionHTTPClient(o.httpClient())}
	if loc.user != "" {
		opts = append(opts, couchdb.BasicAuth(loc.user, loc.password))
	}
	client, err := kivik.New("couch", loc.server.String(), opts...)
	if err != nil {
		return nil, storeError{fmt.Errorf("vault: %s: %w", loc, err)}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, serverCheckTimeout)
		defer cancel()
	}
	check := func() error {
		if _, err := client.Version(ctx); err != nil {
			return err
		}
		if loc.user != "" {
			if _, err := client.Session(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(); err != nil {
		_ = client.Close()
		who := ""
		if loc.user != "" {
			who = fmt.Sprintf(" (as user %q)", loc.user)
		}
		return nil, storeError{fmt.Errorf("vault: %s%s: %s: %w", loc, who, serverCause(ctx, err), err)}
	}
	return client, nil
}

// serverCause says in a few words why a CouchDB server could not be used.
func serverCause(ctx context.Context, err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		recErr  tls.RecordHeaderError
	)
	switch status := kivik.HTTPStatus(err); {
	case status == http.StatusUnauthorized:
		return "wrong user name or password (401 Unauthorized)"
	case status == http.StatusForbidden:
		return "access forbidden (403)"
	case errors.As(err, &dnsErr):
		return "unknown host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the server running on that port?)"
	case errors.As(err, &certErr), errors.As(err, &unknown):
		return "TLS certificate not trusted"
	case errors.As(err, &recErr):
		return "the server does not speak TLS (try http://)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "no answer (timed out)"
		}
		return "cancelled"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &netErr):
		return "unreachable"
	case status >= 400 && status < 500:
		return fmt.Sprintf("the server refused the request (HTTP %d): is this a CouchDB URL?", status)
	default:
		return "the server did not answer like a CouchDB server"
	}
}
