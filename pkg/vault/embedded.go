//go:build !novaultfile

package vault

// This file and file.go import the embedded driver, which registers itself with kivik.
import (
	"errors"

	"github.com/coachco2/coachco2/pkg/sqlitecouch"
)

// embeddedDriver is the kivik driver name of the embedded vault file.
const embeddedDriver = sqlitecouch.DriverName

// damagedOr says what to do about a vault file the driver found damaged, or
// returns op for other errors.
func damagedOr(err error, op string) string {
	if errors.Is(err, sqlitecouch.ErrDamaged) {
		return "the file is damaged: restore it, and its key file, from a backup"
	}
	return op
}
