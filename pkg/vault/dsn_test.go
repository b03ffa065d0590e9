package vault

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		dsn                  string
		server, user, passwd string
		file                 string
	}{
		{dsn: "http://127.0.0.1:5984", server: "http://127.0.0.1:5984/"},
		{dsn: "https://admin:pa%40ss%2Fw@couch.example.net:6984/", server: "https://couch.example.net:6984/", user: "admin", passwd: "pa@ss/w"},
		{dsn: "HTTP://admin:pw@Couch.Example.net/couchdb/", server: "http://Couch.Example.net/couchdb/", user: "admin", passwd: "pw"},
		{dsn: "http://admin@localhost:5984/", server: "http://localhost:5984/", user: "admin"},
		{dsn: "/home/alice/vault.db", file: "/home/alice/vault.db"},
		{dsn: "file:/home/alice/vault.db", file: "/home/alice/vault.db"},
		{dsn: "file:///home/alice/vault.db", file: "/home/alice/vault.db"},
		{dsn: "file:.run/vault.db", file: ".run/vault.db"},
		{dsn: "vault.db", file: "vault.db"},
		{dsn: "./a/../vault.db", file: "vault.db"},
	} {
		loc, err := parseDSN(c.dsn)
		if err != nil {
			t.Errorf("parseDSN(%q): %v", c.dsn, err)
			continue
		}
		server := ""
		if loc.server != nil {
			server = loc.server.String()
		}
		if server != c.server || loc.user != c.user || loc.password != c.passwd || loc.file != c.file {
			t.Errorf("parseDSN(%q) = server %q user %q password %q file %q; want %q %q %q %q",
				c.dsn, server, loc.user, loc.password, loc.file, c.server, c.user, c.passwd, c.file)
		}
	}
}

// TestParseDSNRejects: a DSN that cannot be used gives ErrInvalidDSN, saying what is allowed.
func TestParseDSNRejects(t *testing.T) {
	for dsn, shows := range map[string]string{
		"ftp://host/vault":             `unsupported scheme "ftp": give an http(s)://`,
		"s3://bucket/vault.db":         `unsupported scheme "s3"`,
		"user:pw@ftp://host":           "unsupported scheme: give",
		"":                             "empty",
		"file://relative/vault.db":     "file:///absolute/path",
		"http://:5984/":                "no host",
		"http://admin:pw@host:99999/":  "port out of range",
		"https://couch.example/db?x=1": "query string",
		"vault\x00.db":                 "NUL byte",
	} {
		_, err := parseDSN(dsn)
		if !errors.Is(err, ErrInvalidDSN) || !strings.Contains(err.Error(), shows) {
			t.Errorf("parseDSN(%q) = %v, want ErrInvalidDSN saying %s", dsn, err, shows)
		}
	}
}

// FuzzParseDSNHidesPassword checks that parseDSN never panics and that
// neither its errors nor the location's name show the password of an
// http://user:PASSWORD@rest DSN, however malformed.
func FuzzParseDSNHidesPassword(f *testing.F) {
	for _, seed := range [][2]string{
		{"s3cretPW", "host:5984/"},
		{"s3cret/PW", "host:5984/"},
		{"s3cret#PW", "host:5984/"},
		{"1234?s3cretPW", "host:5984/"},
		{"s3cret%zzPW", "host/"},
		{"s3cretPW", "[::1/"},
		{"s3cretPW", "host:99999/"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, password, rest string) {
		dsn := "http://user:" + password + "@" + rest
		loc, err := parseDSN(dsn)
		if len(password) < 6 || strings.Contains("http://user:"+rest, password) {
			return // too short to tell, or also present outside the password
		}
		if err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("parseDSN(%q): error %q shows the password", dsn, err)
		}
		if err == nil && strings.Contains(loc.String(), password) {
			// The text may come from the rest of the DSN once escaped ("\x80" + "00000" shows
			// as "%8000000"): it is a leak only if another password does not give it too.
			if other, err := parseDSN("http://user:Q@" + rest); err == nil && strings.Contains(other.String(), password) {
				return
			}
			t.Fatalf("parseDSN(%q): location %q shows the password", dsn, loc)
		}
	})
}
