package sqlitecouch

import (
	"errors"
	"testing"
)

// TestDescribeByCodeNotText: only SQLite's own errors, told by their result code, get SQLite's
// advice; an error that merely mentions "malformed" or "readonly" (a selector, a field name)
// is left as it is.
func TestDescribeByCodeNotText(t *testing.T) {
	for _, msg := range []string{
		`invalid selector: field "malformed" is not an operator`,
		`field "readonly": unable to open the index`,
		"database is locked (5) (SQLITE_BUSY)",
		"file is not a database",
	} {
		err := errors.New(msg)
		if got := describeSQLiteError(err); got != err {
			t.Errorf("describeSQLiteError(%q) = %q, want it unchanged", msg, got)
		}
	}
}
