package vault

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// location is a parsed vault DSN: either a CouchDB server or a vault file.
type location struct {
	// server is the CouchDB URL without user information; nil for a file.
	server   *url.URL
	user     string
	password string
	// file is the path of the embedded vault file; "" for a server.
	file string
	// cozy marks a Cozy stack's data API rather than CouchDB itself.
	cozy bool
}

// String names the location for messages: the server URL without
// credentials, or the file path. It never contains a password.
func (l location) String() string {
	if l.cozy {
		return "Cozy instance " + l.server.Host
	}
	if l.server != nil {
		return "CouchDB at " + l.server.String()
	}
	return "vault file " + l.file
}

const dsnForms = "give an http(s)://[user:password@]host:port/ URL, or a file path (optionally as file:PATH)"

// parseDSN parses a vault DSN. Its errors never quote the DSN, which may
// hold a password.
func parseDSN(dsn string) (location, error) {
	lower := strings.ToLower(dsn)
	var file string
	switch {
	case strings.TrimSpace(dsn) == "":
		return location{}, badDSN("empty: %s", dsnForms)
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return parseServerURL(dsn)
	case strings.HasPrefix(lower, "file://"):
		file = dsn[len("file://"):]
		if !strings.HasPrefix(file, "/") {
			return location{}, badDSN("malformed file URL: use file:///absolute/path or file:relative/path")
		}
	case strings.HasPrefix(lower, "file:"):
		file = dsn[len("file:"):]
	case strings.Contains(dsn, "://"):
		// Quote the scheme only when it cannot be part of a password.
		scheme := dsn[:strings.Index(dsn, "://")]
		if len(scheme) > 16 || strings.ContainsAny(scheme, "@:/") {
			return location{}, badDSN("unsupported scheme: %s", dsnForms)
		}
		return location{}, badDSN("unsupported scheme %s: %s", quoteShort(scheme), dsnForms)
	default:
		file = dsn
	}
	if strings.TrimSpace(file) == "" {
		return location{}, badDSN("empty file path: %s", dsnForms)
	}
	if strings.ContainsRune(file, 0) {
		return location{}, badDSN("the file path contains a NUL byte")
	}
	return location{file: filepath.Clean(file)}, nil
}

// badDSN returns an error matching [ErrInvalidDSN]. Its arguments must not
// hold the DSN, which may hold a password.
func badDSN(format string, args ...any) error {
	return fmt.Errorf("vault: %w: "+format, append([]any{ErrInvalidDSN}, args...)...)
}

// parseServerURL parses an http(s) DSN and splits the credentials off.
func parseServerURL(dsn string) (location, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// The parser's message may quote part of the password: do not use it.
		return location{}, badDSN("malformed CouchDB URL (percent-encode any @ : / ? # in the user name or password)")
	}
	if u.Hostname() == "" {
		return location{}, badDSN("malformed CouchDB URL: no host")
	}
	// The messages below quote nothing from the URL: with an unescaped
	// special character, the "port", query or path may be part of the password.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return location{}, badDSN("malformed CouchDB URL: port out of range")
		}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return location{}, badDSN("malformed CouchDB URL: a query string or fragment is not supported (percent-encode ? and # in the password)")
	}
	if strings.Contains(u.Path, "@") {
		return location{}, badDSN("malformed CouchDB URL: '@' in the path (percent-encode / and @ in the user name or password)")
	}
	user := u.User.Username()
	password, _ := u.User.Password()
	u.User = nil
	if u.Path == "" {
		u.Path = "/"
	}
	return location{server: u, user: user, password: password}, nil
}
