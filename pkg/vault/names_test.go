package vault_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault"
)

func TestDBName(t *testing.T) {
	for _, c := range []struct {
		prefix, doctype string
		want, escaped   string
	}{
		// The example of cozy-conventions.md.
		{"alice.cozy.localhost:8080", "io.cozy.files", "alice-cozy-localhost-8080/io-cozy-files", "alice-cozy-localhost-8080%2Fio-cozy-files"},
		{"demo", "io.cozy.timeseries.geojson", "demo/io-cozy-timeseries-geojson", "demo%2Fio-cozy-timeseries-geojson"},
		{"Alice.Example.NET", "io.cozy.accounts", "alice-example-net/io-cozy-accounts", "alice-example-net%2Fio-cozy-accounts"},
		{"cozyb25dd4ea28f7121ac2d1f4681f495e3c", "io.cozy.coachco2.settings", "cozyb25dd4ea28f7121ac2d1f4681f495e3c/io-cozy-coachco2-settings", "cozyb25dd4ea28f7121ac2d1f4681f495e3c%2Fio-cozy-coachco2-settings"},
		{"host:1:2", "a_b.c", "host-1-2/a_b-c", "host-1-2%2Fa_b-c"},
		{"team/alice", "io.cozy.files", "team/alice/io-cozy-files", "team%2Falice%2Fio-cozy-files"},
	} {
		got, err := vault.DBName(c.prefix, c.doctype)
		if err != nil || got != c.want {
			t.Errorf("DBName(%q, %q) = %q, %v; want %q", c.prefix, c.doctype, got, err, c.want)
		}
		if esc := vault.EscapeDBName(got); esc != c.escaped {
			t.Errorf("EscapeDBName(%q) = %q, want %q", got, esc, c.escaped)
		}
	}
}

func TestDBNameRejects(t *testing.T) {
	for _, c := range []struct {
		prefix, doctype, because string
	}{
		{"alice", "", "empty doctype"},
		{"alice", ".io.cozy", "leading dot"},
		{"alice", "io.cozy.", "trailing dot"},
		{"alice", "io..cozy", "doubled dot"},
		{"alice", "io.Cozy.files", "upper case in the doctype"},
		{"alice", "io-cozy-files", "dash in the doctype"},
		{"alice", "io.cozy/files", "slash in the doctype"},
		{"alice", "io.cozy:files", "colon in the doctype"},
		{"", "io.cozy.files", "empty prefix"},
		{"1alice", "io.cozy.files", "name starting with a digit"},
		{"_alice", "io.cozy.files", "name starting with an underscore"},
		{"al ice", "io.cozy.files", "space"},
		{"alicé", "io.cozy.files", "non-ASCII letter"},
		{"al?ice", "io.cozy.files", "question mark"},
		{strings.Repeat("a", 230), "io.cozy.files", "longer than 238 characters"},
	} {
		if got, err := vault.DBName(c.prefix, c.doctype); err == nil {
			t.Errorf("DBName(%q, %q) = %q, want an error (%s)", c.prefix, c.doctype, got, c.because)
		}
	}
}

func TestValidateDoctype(t *testing.T) {
	for _, ok := range []string{vault.DoctypeTrips, vault.DoctypeAccounts, vault.DoctypeSettings, vault.DoctypeStudies,
		vault.DoctypeConsents, vault.DoctypeTransmissions, "a", "io.cozy.a_b.c9"} {
		if err := vault.ValidateDoctype(ok); err != nil {
			t.Errorf("ValidateDoctype(%q) = %v, want nil", ok, err)
		}
	}
}

func TestPrefixForDomain(t *testing.T) {
	// Expected values from: printf '%s' DOMAIN | sha256sum | cut -c1-32
	for domain, want := range map[string]string{
		"alice.cozy.localhost:8080": "cozyb25dd4ea28f7121ac2d1f4681f495e3c",
		"bob.mycozy.cloud":          "cozy69c2ec56499ea76ce9693acc660c2ca5",
	} {
		if got := vault.PrefixForDomain(domain); got != want {
			t.Errorf("PrefixForDomain(%q) = %q, want %q", domain, got, want)
		}
	}
}

// TestValidateInstance: a bad instance name gives ErrInvalidName with a short message that quotes
// the name shortened, control characters escaped, and says what is allowed.
func TestValidateInstance(t *testing.T) {
	for _, ok := range []string{"alice", "Alice.Example.NET", "alice.cozy.localhost:8080", "team/alice",
		"cozyb25dd4ea28f7121ac2d1f4681f495e3c", "a_b$(c)+d-e", strings.Repeat("a", 207)} {
		if err := vault.ValidateInstance(ok); err != nil {
			t.Errorf("ValidateInstance(%q): %v", ok, err)
		}
	}
	long := strings.Repeat("a", 5000)
	for _, c := range []struct{ instance, shows string }{
		{"../../etc", `"../../etc"`},
		{"al\tice", `"al\tice"`},
		{"al\x1b[31mice", `"al\x1b[31mice"`},
		{long, `"` + strings.Repeat("a", 40) + `"… (5000 characters) (too long)`},
		{strings.Repeat("a", 208), "(208 characters) (too long)"},
		{"", "empty"},
		{"1alice", `"1alice"`},
		{"alicé", `"alicé"`},
	} {
		err := vault.ValidateInstance(c.instance)
		if !errors.Is(err, vault.ErrInvalidName) {
			t.Errorf("ValidateInstance(%.20q) = %v, want ErrInvalidName", c.instance, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.shows) || !strings.Contains(msg, "starts with a letter") || len(msg) > 250 ||
			strings.Contains(msg, strings.Repeat("a", 41)) || strings.ContainsAny(msg, "\t\x1b") {
			t.Errorf("ValidateInstance(%.20q): message %q: want it to show %s, say what is allowed, and be short", c.instance, msg, c.shows)
		}
	}
}
