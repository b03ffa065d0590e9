package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Doctypes the project stores. Each gets one database per instance.
const (
	// DoctypeTrips holds one trip per document, as the trip konnectors write them.
	DoctypeTrips = "io.cozy.timeseries.geojson"
	// DoctypeAccounts holds the connector accounts (server, device, opcode, sync cursors).
	DoctypeAccounts = "io.cozy.accounts"
	// DoctypeSettings holds the coach's settings document.
	DoctypeSettings = "io.cozy.coachco2.settings"
	// DoctypeStudies holds the research studies the person has been offered.
	DoctypeStudies = "io.cozy.coachco2.studies"
	// DoctypeConsents holds the person's consents to studies, and their withdrawals.
	DoctypeConsents = "io.cozy.coachco2.consents"
	// DoctypeTransmissions is the sharing log: one document per measure sent to a study.
	DoctypeTransmissions = "io.cozy.coachco2.transmissions"
)

// maxDBNameLen is CouchDB's limit on the length of a database name.
const maxDBNameLen = 238

// PrefixForDomain returns the Cozy prefix of a new instance's databases for
// its domain: "cozy" followed by the first 32 hexadecimal digits of the
// SHA-256 of the domain.
func PrefixForDomain(domain string) string {
	sum := sha256.Sum256([]byte(domain))
	return "cozy" + hex.EncodeToString(sum[:])[:32]
}

// DBName returns the name of the database that holds doctype for the instance
// whose Cozy prefix is prefix, by the rule of cozy-stack:
//
//	lower(replace(replace(prefix + "/" + doctype, ".", "-"), ":", "-"))
//
// so that prefix "alice.cozy.localhost:8080" and doctype "io.cozy.files" give
// "alice-cozy-localhost-8080/io-cozy-files". It returns an error when the
// doctype is invalid (see [ValidateDoctype]), or one matching
// [ErrInvalidName] when the result is not a valid CouchDB database name (for
// example a prefix starting with a digit).
func DBName(prefix, doctype string) (string, error) {
	if err := ValidateDoctype(doctype); err != nil {
		return "", err
	}
	name := dbName(prefix, doctype)
	if err := checkInstance(prefix, name, maxDBNameLen-1-len(doctype)); err != nil {
		return "", err
	}
	return name, nil
}

func dbName(prefix, doctype string) string {
	return strings.ToLower(strings.NewReplacer(".", "-", ":", "-").Replace(prefix + "/" + doctype))
}

// instanceRule says what an instance name may hold, for error messages.
const instanceRule = "an instance name starts with a letter and holds only letters, digits and . : _ $ ( ) + / -"

// ValidateInstance checks that instance can prefix the names of all the
// project's databases (see [DBName] and [ProjectDatabases]). Its error
// matches [ErrInvalidName], quotes the name shortened and says what is allowed.
func ValidateInstance(instance string) error {
	longest := ""
	for _, spec := range ProjectDatabases() {
		if len(spec.Doctype) > len(longest) {
			longest = spec.Doctype
		}
	}
	return checkInstance(instance, dbName(instance, longest), maxDBNameLen-1-len(longest))
}

// checkInstance checks the database name that instance gives with some
// doctype, leaving maxLen characters to the instance.
func checkInstance(instance, name string, maxLen int) error {
	if instance == "" {
		return fmt.Errorf("vault: %w: empty: %s, at most %d", ErrInvalidName, instanceRule, maxLen)
	}
	why := ""
	if len(instance) > maxLen {
		why = "too long"
	} else {
		why = invalidDBName(name)
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("vault: %w %s (%s): %s, at most %d", ErrInvalidName, quoteShort(instance), why, instanceRule, maxLen)
}

// maxQuoted is how many characters of a bad value messages quote.
const maxQuoted = 40

// quoteShort quotes s for a message, control characters escaped, shortened
// to its first maxQuoted characters.
func quoteShort(s string) string {
	if n := utf8.RuneCountInString(s); n > maxQuoted {
		return fmt.Sprintf("%.*q… (%d characters)", maxQuoted, s, n)
	}
	return strconv.Quote(s)
}

// EscapeDBName returns name as it appears in a URL path: every "/" becomes
// "%2F", and nothing else changes (names from [DBName] hold no other
// character that needs escaping).
func EscapeDBName(name string) string {
	return strings.ReplaceAll(name, "/", "%2F")
}

// ValidateDoctype reports whether doctype is a valid reverse-DNS doctype:
// only the characters a-z, 0-9, '.' and '_', and no leading, trailing or
// doubled dot. It returns nil when it is.
func ValidateDoctype(doctype string) error {
	switch {
	case doctype == "":
		return fmt.Errorf("vault: empty doctype")
	case strings.HasPrefix(doctype, "."), strings.HasSuffix(doctype, "."):
		return fmt.Errorf("vault: invalid doctype %q: leading or trailing dot", doctype)
	case strings.Contains(doctype, ".."):
		return fmt.Errorf("vault: invalid doctype %q: doubled dot", doctype)
	}
	for _, r := range doctype {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return fmt.Errorf("vault: invalid doctype %q: character %q is not one of a-z 0-9 . _", doctype, r)
		}
	}
	return nil
}

// invalidDBName returns why name is not a valid CouchDB database name
// (^[a-z][a-z0-9_$()+/-]*$, at most 238 characters), or "" when it is.
func invalidDBName(name string) string {
	if name == "" {
		return "empty name"
	}
	if len(name) > maxDBNameLen {
		return fmt.Sprintf("longer than %d characters", maxDBNameLen)
	}
	if c := name[0]; c < 'a' || c > 'z' {
		return "it does not start with a letter a-z"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_$()+/-", r)) {
			return fmt.Sprintf("character %q", r)
		}
	}
	return ""
}
