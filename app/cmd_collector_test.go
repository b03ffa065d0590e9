package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
)

// "app collector" with a PostgreSQL it cannot reach fails, and neither its error nor its output
// shows the password, percent-encoded or not.
func TestCollectorHidesDatabasePassword(t *testing.T) {
	t.Setenv("COACHCO2_COLLECTOR_TOKEN", "test-admin-token-0123456789")
	for _, pw := range []string{"Zq8!vé&@%x", "9876#5432zz", "p@ss/w0rdXY"} {
		for _, dsn := range []string{
			"postgres://" + url.UserPassword("collector", pw).String() + "@127.0.0.1:1/collector?sslmode=disable",
			"postgres://collector:" + pw + "@127.0.0.1:1/collector?sslmode=disable",
		} {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs([]string{"collector", "--db", dsn, "--addr", "127.0.0.1:0"})
			err := root.ExecuteContext(context.Background())
			if err == nil {
				t.Fatalf("collector with nothing listening at the database's address: no error")
			}
			text := err.Error() + "\n" + out.String()
			// The password, escaped or not, and each run of 4+ letters and digits of it (an
			// unescaped "#" or "/" cuts it in two).
			forms := append([]string{pw, url.QueryEscape(pw), url.PathEscape(pw)}, strings.FieldsFunc(pw, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			})...)
			for _, form := range forms {
				if len(form) >= 4 && strings.Contains(text, form) {
					t.Errorf("the password shows (as %q):\n%s", form, text)
				}
			}
		}
	}
}
