package vault

// This is the only file that imports the embedded driver, which registers
// itself with kivik.
import "github.com/coachco2/coachco2/pkg/sqlitecouch"

// embeddedDriver is the kivik driver name of the embedded vault file.
const embeddedDriver = sqlitecouch.DriverName
