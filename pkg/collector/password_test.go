package collector

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// secretForms are the ways a driver or a URL parser could echo a password: as is, escaped for a
// URL or a quoted string, and each run of 4 or more letters and digits of it (an unescaped "#"
// or "/" cuts a password in two, and each half shows elsewhere).
func secretForms(pw string) []string {
	forms := []string{pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("u", pw).String(),
		strings.ReplaceAll(url.QueryEscape(pw), "+", "%20"), strings.Trim(strconv.Quote(pw), `"`),
		strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw)}
	for _, f := range strings.FieldsFunc(pw, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if len(f) >= 4 {
			forms = append(forms, f)
		}
	}
	return forms
}

// checkHidden fails the test when text shows the password in any of its forms.
func checkHidden(t *testing.T, what, text, pw string) {
	t.Helper()
	for _, f := range secretForms(pw) {
		if len(f) >= 3 && strings.Contains(text, f) {
			t.Errorf("%s shows the password (as %q): %s", what, f, text)
		}
	}
}

// awkwardDSNs are PostgreSQL URLs for a server at hostport and a database, with passwords that
// are hard to redact: percent-encoded or not (a careless operator), in the user info or in the
// query, with @ % & é # / ? and spaces.
func awkwardDSNs(user, hostport, db string) []struct{ dsn, password string } {
	type c = struct{ dsn, password string }
	var out []c
	for _, pw := range []string{"Zq8!vé&@%x", "p@ss w0rd&é%41", "s3cr%C3%A9tPW", "émile&Zola@1898"} {
		out = append(out,
			c{"postgres://" + url.UserPassword(user, pw).String() + "@" + hostport + "/" + db + "?sslmode=disable", pw},
			c{"postgres://" + user + "@" + hostport + "/" + db + "?sslmode=disable&password=" + url.QueryEscape(pw), pw})
	}
	// Not percent-encoded: the URL is malformed, or its parts move ("#" ends the host early).
	for _, pw := range []string{"9876#5432zz", "p@ss/w0rdXY", "50%zzabcd", "abcd?efgh@", "mot de passe", "kl%G0&é@x"} {
		out = append(out, c{"postgres://" + user + ":" + pw + "@" + hostport + "/" + db + "?sslmode=disable", pw})
	}
	return out
}

// Open's errors and Location never show the password, whatever its form, when the server is
// unreachable or the URL malformed.
func TestOpenHidesPassword(t *testing.T) {
	ctx := t.Context()
	for _, c := range awkwardDSNs("collector", "127.0.0.1:1", "collector") { // nothing listens on port 1
		s, err := Open(ctx, c.dsn)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q) succeeded with nothing listening", c.password)
		}
		checkHidden(t, "Open's error", err.Error(), c.password)
		checkHidden(t, "RedactDSN", RedactDSN(c.dsn), c.password)
	}
	// A short password that is also a part of other words ("test", "user"): the password plays
	// no part in the message, which is the same as without it, not masked here and there.
	_, errPW := Open(ctx, "postgres://collector:es@127.0.0.1:1/test?sslmode=disable")
	_, errNone := Open(ctx, "postgres://collector@127.0.0.1:1/test?sslmode=disable")
	if errPW == nil || errNone == nil || errPW.Error() != errNone.Error() {
		t.Fatalf("with the password \"es\": %v\nwithout a password: %v\nwant the same message", errPW, errNone)
	}
}

// testPasswordHidden runs on the real PostgreSQL server: connections refused by the server (no
// such database, no such role) never show the password, and a store opened with one names its
// database without it.
func testPasswordHidden(t *testing.T, b backend) {
	ctx := t.Context()
	base, err := url.Parse(b.dsn(t)) // a schema of its own, for the store that opens
	if err != nil {
		t.Fatal(err)
	}
	user := "postgres"
	if base.User != nil && base.User.Username() != "" {
		user = base.User.Username()
	}
	for _, target := range []struct{ user, db string }{{user, "no_such_db_" + randomHex(4)}, {"no_such_role_" + randomHex(4), base.Path[1:]}} {
		for _, c := range awkwardDSNs(target.user, base.Host, target.db) {
			s, err := Open(ctx, c.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open as %s to %s succeeded", target.user, target.db)
			}
			checkHidden(t, "Open's error", err.Error(), c.password)
		}
	}
	for _, pw := range []string{"Zq8!vé&@%x", "émile&Zola@1898"} {
		u := *base
		u.User = url.UserPassword(user, pw)
		s, err := Open(ctx, u.String()) // trust authentication: any password opens
		if err != nil {
			checkHidden(t, "Open's error", err.Error(), pw)
			continue
		}
		checkHidden(t, "Location", s.Location(), pw)
		s.Close()
	}
}

// FuzzPostgresURLHidesPassword: whatever the password and the rest of the URL, the text the
// driver parses (and may quote in errors), RedactDSN and the parse error never show it.
func FuzzPostgresURLHidesPassword(f *testing.F) {
	for _, seed := range [][2]string{
		{"s3cretPW", "db.example.org:5432/collector?sslmode=require"},
		{"s3cret/PW", "host/db"},
		{"s3cret#PW", "host/db"},
		{"1234?s3cretPW", "host/db"},
		{"s3cret%zzPW", "host/db"},
		{"9876#5432zz", "host/db"},
		{"émile&Zola", "host/db?password=autre&sslmode=disable"},
		{"s3cretPW", "[::1/db"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, password, rest string) {
		dsn := "postgres://user:" + password + "@" + rest
		if len(password) < 6 || strings.Contains("postgres://user:"+rest, password) {
			return // too short to tell, or also present outside the password
		}
		shown := RedactDSN(dsn)
		pu, err := parsePostgresURL(dsn)
		if err != nil {
			shown += " " + err.Error()
		} else {
			shown += " " + pu.public.String() + " " + pu.where()
		}
		if strings.Contains(shown, password) {
			// The text may come from the rest of the URL once escaped: a leak only if another
			// password does not show it too.
			if strings.Contains(RedactDSN("postgres://user:Q@"+rest), password) {
				return
			}
			t.Fatalf("%q shows the password: %s", dsn, shown)
		}
	})
}
