package vault_test

import (
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
