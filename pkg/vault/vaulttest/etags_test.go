package vaulttest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// do sends a request to the test server and decodes its JSON answer into out.
func do(t *testing.T, method, url string, body string, out any) http.Header {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return resp.Header
}

// TestServerAnswersCouchDBETags: the test server's ETags are CouchDB's, the quoted revision, or
// absent; never pouchdb-server's weak ones, which kivik would take for a revision.
func TestServerAnswersCouchDBETags(t *testing.T) {
	db := strings.TrimSuffix(couch.URL(t), "/") + "/" + vaulttest.Instance(t)
	do(t, http.MethodPut, db, "", nil)
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, db, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	var put struct{ Rev string }
	do(t, http.MethodPut, db+"/doc", `{"n": 1}`, &put)
	var doc struct {
		Rev string `json:"_rev"`
	}
	h := do(t, http.MethodGet, db+"/doc", "", &doc)
	if etag := h.Get("ETag"); etag != "" && etag != `"`+doc.Rev+`"` {
		t.Errorf("GET: ETag %q, want %q or none", etag, `"`+doc.Rev+`"`)
	}
	var del struct{ Rev string }
	h = do(t, http.MethodDelete, db+"/doc?rev="+put.Rev, "", &del)
	if etag := h.Get("ETag"); etag != `"`+del.Rev+`"` {
		t.Errorf("DELETE: ETag %q, want the tombstone's revision %q", etag, `"`+del.Rev+`"`)
	}
}
