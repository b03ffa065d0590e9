package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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
	if req.Method == http.MethodPut {
		var err error
		if req, err = withIDBesideRev(req); err != nil {
			return nil, err
		}
	}
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

// withIDBesideRev adds the document's "_id" to the body of an update that names only its "_rev":
// the stack refuses a PUT /data/:doctype/:docid whose body has one of the two without the other
// (web/data/data.go, UpdateDoc), where CouchDB takes the id from the URL.
func withIDBesideRev(req *http.Request) (*http.Request, error) {
	segs := strings.Split(strings.TrimSuffix(req.URL.EscapedPath(), "/"), "/")
	n := len(segs)
	if req.Body == nil || n < 3 || segs[n-3] != "data" || strings.HasPrefix(segs[n-1], "_") {
		return req, nil // not /data/:doctype/:docid
	}
	id, err := url.PathUnescape(segs[n-1])
	if err != nil {
		return req, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the body of PUT %s: %w", req.URL.Path, err)
	}
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' && gjson.GetBytes(b, "_rev").Exists() && !gjson.GetBytes(b, "_id").Exists() {
		quoted, _ := json.Marshal(id)
		rest := bytes.TrimSpace(b[1:])
		sep := ","
		if len(rest) > 0 && rest[0] == '}' {
			sep = ""
		}
		body = slices.Concat([]byte(`{"_id":`), quoted, []byte(sep), rest)
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return req, nil
}

// isDoctypePath reports whether path is /.../data/<doctype>, with no trailing slash.
func isDoctypePath(path string) bool {
	dir, doctype := path[:strings.LastIndex(path, "/")+1], path[strings.LastIndex(path, "/")+1:]
	return strings.HasSuffix(dir, "/data/") && doctype != "" && !strings.HasPrefix(doctype, "_")
}
