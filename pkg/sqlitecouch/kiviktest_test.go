package sqlitecouch_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/go-kivik/kivik/v4"
	_ "github.com/go-kivik/kivik/v4/kiviktest/client" // registers kivik's client tests
	_ "github.com/go-kivik/kivik/v4/kiviktest/db"     // registers kivik's database tests
	"github.com/go-kivik/kivik/v4/kiviktest/kt"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
)

// TestKivikSuite runs kivik's own conformance suite (kiviktest, the one kivik runs on each of its
// backends) on the embedded driver, with CouchDB 3's expectations.
//
// kivik v4.5.2 is the newest release on the module proxy, and its kiviktest package does not
// compile with Go 1.26 (its copy of testing's testDeps lacks ModulePath; the fix is on kivik's
// master only, which the proxy does not serve). Its subpackages compile, so this adapter does what
// kiviktest.RunTestsInternal does: it gives kt.RunSubtests a context and a suite configuration.
//
// The configuration is kivik's CouchDB 3.3 one (couchdb/test/couchdb3x.go and couchdb33.go in
// kivik v4.5.2, which cannot be imported for the same reason), restricted to what applies to a
// store without users:
//   - no unauthenticated client: the embedded store has no authentication (a file's permissions
//     guard it), so kt skips every NoAuth subtest by itself;
//   - no CouchDB system databases (_users, _replicator, _global_changes): they are made by
//     CouchDB's cluster setup, not by the protocol, and the embedded store has none;
//   - the vendor is the embedded store's own;
//   - skipped, with the reason: only what the package documentation (doc.go) lists as not
//     supported or as a known difference.
func TestKivikSuite(t *testing.T) {
	client, err := kivik.New(sqlitecouch.DriverName, filepath.Join(t.TempDir(), "kiviktest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	c := &kt.Context{RW: true, Admin: client, Config: kivikSuiteConfig()}
	kt.RunSubtests(t, c)
}

// kivikSuiteConfig is CouchDB 3.3's expectations in kiviktest's terms (see TestKivikSuite).
func kivikSuiteConfig() kt.SuiteConfig {
	databases := []string{"chicken", "_duck"} // a missing database, and an illegal name
	return kt.SuiteConfig{
		// Not supported by the embedded store (doc.go).
		"GetAttachment.skip":     true, // attachments
		"GetAttachmentMeta.skip": true, // attachments
		"PutAttachment.skip":     true, // attachments
		"DeleteAttachment.skip":  true, // attachments
		"Query.skip":             true, // views (JavaScript map/reduce)
		"Replicate.skip":         true, // replication
		"GetReplications.skip":   true, // replication
		"DBUpdates.skip":         true, // _db_updates
		// Known differences (doc.go). Only the winning revision is kept: copying an earlier one
		// finds nothing.
		"Copy/RW/Admin/foo/RevCopy.skip":         true,
		"Copy/RW/Admin/_design/foo/RevCopy.skip": true,
		"Copy/RW/Admin/_local/foo/RevCopy.skip":  true,
		// A feed lists each document at its latest change: the test writes one document three
		// times before it reads the feed, and expects the three revisions.
		"Changes/Continuous.skip": true,

		"Version.version": `^3\.3\.`,
		"Version.vendor":  `^coachco2 sqlitecouch$`,

		"AllDBs.expected":                   []string{},
		"CreateDB/RW/Admin/Recreate.status": http.StatusPreconditionFailed,

		"DestroyDB/RW/Admin/NonExistantDB.status": http.StatusNotFound,

		"AllDocs.databases":            databases,
		"AllDocs/Admin/chicken.status": http.StatusNotFound,
		"AllDocs/Admin/_duck.status":   http.StatusNotFound,

		"Find.databases":                databases,
		"Find/Admin/chicken.status":     http.StatusNotFound,
		"Find/Admin/_duck.status":       http.StatusNotFound,
		"Find/RW/Admin/Warning.warning": "No matching index found, create an index to optimize query time.",

		"Explain.databases":            databases,
		"Explain/Admin/chicken.status": http.StatusNotFound,
		"Explain/Admin/_duck.status":   http.StatusNotFound,
		"Explain.plan": &kivik.QueryPlan{
			Index: map[string]any{
				"ddoc": nil,
				"name": "_all_docs",
				"type": "special",
				"def":  map[string]any{"fields": []any{map[string]string{"_id": "asc"}}},
			},
			Selector: map[string]any{"_id": map[string]any{"$gt": nil}},
			Options: map[string]any{
				"bookmark":        "nil",
				"conflicts":       false,
				"execution_stats": false,
				"r":               []int{49},
				"sort":            map[string]any{},
				"use_index":       []any{},
				"stable":          false,
				"stale":           false,
				"update":          true,
				"skip":            0,
				"limit":           25,
				"partition":       "",
				"fields":          "all_fields",
			},
			Range: nil,
			Limit: 25,
		},

		"DBExists.databases":            []string{"chicken", "_duck"},
		"DBExists/Admin/chicken.exists": false,
		"DBExists/Admin/_duck.exists":   false,
		"DBExists/RW/Admin.exists":      true,

		"Get/RW/Admin/bogus.status":    http.StatusNotFound,
		"GetRev/RW/Admin/bogus.status": http.StatusNotFound,

		"Flush.databases":                    []string{"chicken", "_duck"},
		"Flush/Admin/chicken/DoFlush.status": http.StatusNotFound,
		"Flush/Admin/_duck/DoFlush.status":   http.StatusNotFound,

		"Delete/RW/Admin/MissingDoc.status":       http.StatusNotFound,
		"Delete/RW/Admin/InvalidRevFormat.status": http.StatusBadRequest,
		"Delete/RW/Admin/WrongRev.status":         http.StatusConflict,

		"Stats.databases":            []string{"chicken", "_duck"},
		"Stats/Admin/chicken.status": http.StatusNotFound,
		"Stats/Admin/_duck.status":   http.StatusNotFound,

		"Compact.skip": false,

		"Security.databases":                    []string{"chicken", "_duck"},
		"Security/Admin/chicken.status":         http.StatusNotFound,
		"Security/Admin/_duck.status":           http.StatusNotFound,
		"SetSecurity/RW/Admin/NotExists.status": http.StatusNotFound,

		"BulkDocs/RW/Admin/Mix/Conflict.status": http.StatusConflict,

		"Put/RW/Admin/LeadingUnderscoreInID.status": http.StatusBadRequest,
		"Put/RW/Admin/Conflict.status":              http.StatusConflict,

		"CreateIndex/RW/Admin/EmptyIndex.status":   http.StatusBadRequest,
		"CreateIndex/RW/Admin/BlankIndex.status":   http.StatusBadRequest,
		"CreateIndex/RW/Admin/InvalidIndex.status": http.StatusBadRequest,
		"CreateIndex/RW/Admin/NilIndex.status":     http.StatusBadRequest,
		"CreateIndex/RW/Admin/InvalidJSON.status":  http.StatusBadRequest,

		"GetIndexes.databases":            []string{"chicken", "_duck"},
		"GetIndexes/Admin/chicken.status": http.StatusNotFound,
		"GetIndexes/Admin/_duck.status":   http.StatusNotFound,
		"GetIndexes/RW.indexes": []kivik.Index{
			kt.AllDocsIndex,
			{
				DesignDoc: "_design/foo",
				Name:      "bar",
				Type:      "json",
				Definition: map[string]any{
					"fields":                  []map[string]string{{"foo": "asc"}},
					"partial_filter_selector": map[string]string{},
				},
			},
		},

		"DeleteIndex/RW/Admin/NotFoundDdoc.status": http.StatusNotFound,
		"DeleteIndex/RW/Admin/NotFoundName.status": http.StatusNotFound,

		"Changes/Continuous.options": kivik.Params(map[string]any{
			"feed":      "continuous",
			"since":     "now",
			"heartbeat": 6000,
		}),
	}
}
