package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	kivik "github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"
	"github.com/tidwall/gjson"
)

// OpenCozy opens a person's vault through their Cozy instance's data API, with the bearer token the
// stack gives a konnector (COZY_CREDENTIALS) or an app. The data API mirrors CouchDB's routes under
// /data/<doctype>/, so kivik's CouchDB driver speaks it with the doctype as database name; the stack
// names the instance's databases and creates them on first write, so no database is created here.
//
// The data API is not CouchDB's everywhere, and the vault follows the stack's source
// (cozy-stack web/data/data.go): indexes are only defined, never listed ([DB.EnsureIndexes]); a
// create with a chosen id sends neither _id nor _rev ([Update]); a _find page is at most 1000
// documents ([DB.Find]). The stack cannot run in the project's tests: they check this mode
// against a double that follows the stack's source (vaulttest.CozyStack).
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
	hc := o.httpClient()
	hc.Transport = cozyAnswers{base: hc.Transport}
	// The stack decodes request bodies as they come: it has no decompressing middleware
	// (web/routing.go), so kivik's gzip bodies would be refused.
	client, err := kivik.New("couch", u.String(), couchdb.OptionHTTPClient(hc), couchdb.JWTAuth(token),
		couchdb.OptionNoRequestCompression())
	if err != nil {
		return nil, fmt.Errorf("vault: Cozy instance %s: %w", u.Host, err)
	}
	loc := location{server: u, cozy: true}
	return &Vault{client: client, loc: loc, cozy: true, policy: o.policy, dbs: map[string]*DB{}}, nil
}

// maxDeleteAnswer bounds the DELETE answer cozyAnswers reads.
const maxDeleteAnswer = 64 << 10

// cozyAnswers adapts kivik's CouchDB driver to the two places where the stack's routes differ
// from CouchDB's in a way the driver cannot be told about:
//   - a new document is posted to /db, where the stack routes only POST /data/:doctype/
//     (web/data/data.go, Routes; nothing adds the slash, web/routing.go): the slash is added;
//   - a DELETE answers {ok, id, rev, type, deleted} with no ETag (web/data/data.go, DeleteDoc),
//     where the driver looks for the new revision in the ETag or a "_rev" member: the revision
//     is put in the ETag, as CouchDB does.
type cozyAnswers struct{ base http.RoundTripper }

func (t cozyAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && isDoctypePath(req.URL.Path) {
		req = req.Clone(req.Context())
		req.URL.Path += "/"
		if req.URL.RawPath != "" {
			req.URL.RawPath += "/"
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodDelete || resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != "" {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDeleteAnswer))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the answer to DELETE %s: %w", req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rev := gjson.GetBytes(body, "rev").String(); rev != "" {
		resp.Header.Set("ETag", `"`+rev+`"`)
	}
	return resp, nil
}

// isDoctypePath reports whether path is /.../data/<doctype>, with no trailing slash.
func isDoctypePath(path string) bool {
	dir, doctype := path[:strings.LastIndex(path, "/")+1], path[strings.LastIndex(path, "/")+1:]
	return strings.HasSuffix(dir, "/data/") && doctype != "" && !strings.HasPrefix(doctype, "_")
}
