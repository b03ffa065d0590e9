package vaulttest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
)

// maxDeleteBody bounds the DELETE answer body couchETags reads.
const maxDeleteBody = 64 << 10

// couchETags starts a reverse proxy to the pouchdb-server at target that makes its answers carry
// CouchDB's ETags. kivik's CouchDB driver takes a document's revision from the ETag header when
// there is one; CouchDB's ETags are the quoted revision, pouchdb-server's are weak (W/"...") and
// no revision. The proxy drops them, so that kivik reads the revision from the body, except for
// DELETE, whose body holds the revision under "rev" where kivik looks for "_rev": there it puts
// the revision in the ETag as CouchDB does.
func couchETags(target string) (*httptest.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("vaulttest: pouchdb-server URL: %w", err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(u) },
		FlushInterval:  -1, // the changes feed streams
		ModifyResponse: strongETag,
	}
	return httptest.NewServer(proxy), nil
}

// strongETag turns a weak ETag of pouchdb-server into CouchDB's (see couchETags).
func strongETag(resp *http.Response) error {
	if !strings.HasPrefix(resp.Header.Get("ETag"), "W/") {
		return nil
	}
	resp.Header.Del("ETag")
	if resp.Request.Method != http.MethodDelete {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDeleteBody))
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rev := gjson.GetBytes(body, "rev").String(); rev != "" {
		resp.Header.Set("ETag", `"`+rev+`"`)
	}
	return nil
}
