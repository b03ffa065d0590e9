package vault

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	kivik "github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"
)

// OpenCozy opens a person's vault through their Cozy instance's data API, with the bearer token the
// stack gives a konnector (COZY_CREDENTIALS) or an app. The data API mirrors CouchDB's routes under
// /data/<doctype>/, so kivik's CouchDB driver speaks it with the doctype as database name; the stack
// names the instance's databases and creates them on first write, so no database is created here.
//
// The stack cannot run in the project's tests: they check this mode against the data API's
// documented contract (see pkg/vault/cozy_test.go).
//
// [WithPolicy] makes every later operation ask a [Policy] first, on top of the
// stack's own checks of the token's permissions; [WithTransport] gives the
// HTTP transport to reach the stack.
func OpenCozy(ctx context.Context, instanceURL, token string, opts ...Option) (*Vault, error) {
	o := collectOptions(opts)
	u, err := url.Parse(instanceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("vault: Cozy instance URL: want http(s)://host/, got a malformed URL")
	}
	if token == "" {
		return nil, fmt.Errorf("vault: Cozy instance %s: no token", u.Host)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/data/"
	client, err := kivik.New("couch", u.String(), couchdb.OptionHTTPClient(o.httpClient()), couchdb.JWTAuth(token))
	if err != nil {
		return nil, fmt.Errorf("vault: Cozy instance %s: %w", u.Host, err)
	}
	loc := location{server: u, cozy: true}
	return &Vault{client: client, loc: loc, cozy: true, policy: o.policy, dbs: map[string]*DB{}}, nil
}
