package sandbox_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/vault"
)

// repoRoot is the module root, where manifest.webapp lives.
const repoRoot = "../.."

// minimal is a valid manifest; the tests change one thing at a time.
const minimal = `{
  "name": "Test", "slug": "test-app", "version": "1.2.3", "editor": "Tests", "icon": "icon.svg",
  "langs": ["en"], "locales": {"en": {"short_description": "A test app"}},
  "permissions": {
    "notes": {"type": "io.cozy.notes", "verbs": ["GET", "PUT"], "description": "Read and edit notes"}
  }
}`

func parse(t *testing.T, data string) *sandbox.Manifest {
	t.Helper()
	m, err := sandbox.ParseManifest([]byte(data))
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	return m
}

// openVault opens an embedded vault with the policy, and a plain handle on
// the same file to look behind the policy's back.
func openVault(t *testing.T, p vault.Policy) (restricted, plain *vault.Vault) {
	t.Helper()
	ctx := t.Context()
	dsn := "file:" + filepath.Join(t.TempDir(), "vault.db")
	plain, err := vault.Open(ctx, dsn, "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })
	restricted, err = vault.Open(ctx, dsn, "alice", vault.WithPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restricted.Close() })
	return restricted, plain
}

func TestPolicyRefusesWhatIsUndeclared(t *testing.T) {
	ctx := t.Context()
	m := parse(t, minimal)
	v, plain := openVault(t, m.Policy())

	// A doctype the manifest does not declare: no handle at all.
	_, err := v.DB(ctx, "io.cozy.files")
	if !errors.Is(err, vault.ErrForbidden) || !strings.Contains(err.Error(), "io.cozy.files") {
		t.Fatalf("DB of an undeclared doctype: %v", err)
	}
	if _, err := v.DB(ctx, vault.DoctypeTrips); !errors.Is(err, vault.ErrForbidden) {
		t.Fatalf("DB of trips, undeclared: %v", err)
	}

	// Declared verbs work.
	notes, err := v.DB(ctx, "io.cozy.notes")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := notes.Put(ctx, "n1", map[string]any{"text": "hello"})
	if err != nil {
		t.Fatalf("declared PUT: %v", err)
	}
	var doc map[string]any
	if _, err := notes.Get(ctx, "n1", &doc); err != nil || doc["text"] != "hello" {
		t.Fatalf("declared GET: %v, %v", doc, err)
	}
	if _, err := vault.Update(ctx, notes, "n1", func(d *map[string]any, _ bool) error { (*d)["text"] = "hi"; return nil }); err != nil {
		t.Fatalf("Update with GET and PUT: %v", err)
	}

	// Verbs not granted: POST, DELETE.
	if _, _, err := notes.Create(ctx, map[string]any{"text": "new"}); !errors.Is(err, vault.ErrForbidden) || !strings.Contains(err.Error(), "POST") {
		t.Fatalf("Create without POST: %v", err)
	}
	if _, err := notes.Delete(ctx, "n1", rev); !errors.Is(err, vault.ErrForbidden) || !strings.Contains(err.Error(), "DELETE") {
		t.Fatalf("Delete without DELETE: %v", err)
	}
	if err := v.DestroyDB(ctx, "io.cozy.notes"); !errors.Is(err, vault.ErrForbidden) {
		t.Fatalf("DestroyDB without DELETE: %v", err)
	}
	// Nothing was created or deleted behind the refusals.
	pn, err := plain.DB(ctx, "io.cozy.notes")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := pn.Count(ctx); err != nil || n != 1 {
		t.Fatalf("after the refusals: %d documents, %v; want 1", n, err)
	}
	if dbs, err := plain.Databases(ctx); err != nil || len(dbs) != 1 {
		t.Fatalf("after the refusals: databases %v, %v; want only the notes", dbs, err)
	}
}

func TestPolicyDirectly(t *testing.T) {
	m := parse(t, `{
	  "name": "Test", "slug": "test-app", "version": "1.0.0", "editor": "Tests", "icon": "icon.svg",
	  "langs": ["en"], "locales": {"en": {"short_description": "A test app"}},
	  "permissions": {
	    "all-notes": {"type": "io.cozy.notes", "description": "Everything on notes"},
	    "read-files": {"type": "io.cozy.files", "verbs": ["GET"], "description": "Read files"},
	    "write-files": {"type": "io.cozy.files", "verbs": ["POST"], "description": "Upload files"},
	    "one-file": {"type": "io.cozy.photos", "verbs": ["ALL"], "values": ["abc"], "description": "One photo"},
	    "jobs": {"type": "io.cozy.jobs", "selector": "worker", "values": ["sendmail"], "description": "Send mail"},
	    "dacc": {"type": "cc.cozycloud.dacc_v2", "verbs": ["POST"], "description": "Send aggregates"}
	  }
	}`)
	p := m.Policy()
	cases := []struct {
		doctype, verb string
		ok            bool
	}{
		{"io.cozy.notes", "GET", true}, {"io.cozy.notes", "PATCH", true}, {"io.cozy.notes", "DELETE", true},
		{"io.cozy.notes", vault.VerbAny, true},
		{"io.cozy.files", "GET", true}, {"io.cozy.files", "POST", true}, {"io.cozy.files", "PUT", false},
		{"io.cozy.files", "DELETE", false},
		// Restricted rules and remote doctypes grant nothing in the vault.
		{"io.cozy.photos", "GET", false}, {"io.cozy.photos", vault.VerbAny, false},
		{"io.cozy.jobs", "POST", false}, {"io.cozy.jobs", vault.VerbAny, false},
		{"cc.cozycloud.dacc_v2", "POST", false}, {"cc.cozycloud.dacc_v2", vault.VerbAny, false},
		{"io.cozy.accounts", "GET", false}, {"io.cozy.notes.other", "GET", false}, {"io.cozy", "GET", false},
		{"io.cozy.notes", "TRACE", false}, {"io.cozy.notes", "get", false}, {"io.cozy.notes", "", false},
	}
	for _, c := range cases {
		err := p(c.doctype, c.verb)
		if (err == nil) != c.ok {
			t.Errorf("%s %s: %v, want allowed %v", c.verb, c.doctype, err, c.ok)
		}
		if err != nil && !errors.Is(err, vault.ErrForbidden) {
			t.Errorf("%s %s: refusal %v does not match ErrForbidden", c.verb, c.doctype, err)
		}
	}
	if err := p("io.cozy.files", "PUT"); err == nil || !strings.Contains(err.Error(), "grants GET, POST on io.cozy.files, not PUT") {
		t.Errorf("refusal message: %v", err)
	}

	// The policy is a snapshot.
	m.Permissions["more"] = sandbox.Rule{Type: "io.cozy.accounts", Description: "x"}
	if p("io.cozy.accounts", "GET") == nil {
		t.Error("changing the manifest changed an existing policy")
	}

	// The UI list: vault doctypes first, remote last, ALL expanded.
	var got []string
	for _, d := range m.Declared("en") {
		got = append(got, d.Label+":"+strings.Join(d.Verbs, "+"))
		if d.Label == "dacc" && !d.Remote || d.Label != "dacc" && d.Remote {
			t.Errorf("%s: Remote %v", d.Label, d.Remote)
		}
		if (d.Label == "one-file" || d.Label == "jobs") != d.Restricted {
			t.Errorf("%s: Restricted %v", d.Label, d.Restricted)
		}
	}
	want := []string{"more:GET+POST+PUT+PATCH+DELETE", "read-files:GET", "write-files:POST",
		"jobs:GET+POST+PUT+PATCH+DELETE", "all-notes:GET+POST+PUT+PATCH+DELETE", "one-file:GET+POST+PUT+PATCH+DELETE", "dacc:POST"}
	if !slices.Equal(got, want) {
		t.Errorf("Declared:\n got %v\nwant %v", got, want)
	}
}

func TestParseManifestRefusesMalformed(t *testing.T) {
	// edit replaces old by new in the minimal manifest.
	edit := func(old, new string) string {
		if !strings.Contains(minimal, old) {
			panic("no " + old)
		}
		return strings.Replace(minimal, old, new, 1)
	}
	rule := func(r string) string {
		return edit(`{"type": "io.cozy.notes", "verbs": ["GET", "PUT"], "description": "Read and edit notes"}`, r)
	}
	cases := []struct {
		name, data, want string
	}{
		{"not JSON", `{"name": `, "not a JSON object"},
		{"an array", `[]`, "not a JSON object"},
		{"trailing data", minimal + `{}`, "unexpected data"},
		{"no name", edit(`"name": "Test",`, ``), "name: missing"},
		{"no slug", edit(`"slug": "test-app",`, ``), "slug: missing"},
		{"bad slug", edit(`"test-app"`, `"Test App"`), `slug "Test App"`},
		{"bad version", edit(`"1.2.3"`, `"one"`), `version "one"`},
		{"no editor", edit(`"editor": "Tests",`, ``), "editor: missing"},
		{"no icon", edit(`"icon": "icon.svg",`, ``), "icon: missing"},
		{"icon outside", edit(`"icon.svg"`, `"../secret.svg"`), "icon"},
		{"wrong type", edit(`"name": "Test",`, `"name": "Test", "type": "konnector",`), `type "konnector"`},
		{"no langs", edit(`"langs": ["en"],`, ``), "langs: missing"},
		{"lang without locale", edit(`["en"]`, `["en", "fr"]`), "locales.fr: missing"},
		{"no short description", edit(`"short_description": "A test app"`, `"long_description": "x"`), "locales.en.short_description"},
		{"permissions not an object", edit(`"permissions": {`, `"permissions": [], "x": {`), "permissions: want an object"},
		{"rule not an object", rule(`"GET"`), "permissions.notes"},
		{"no type", rule(`{"verbs": ["GET"], "description": "d"}`), "permissions.notes: type: missing"},
		{"bad doctype", rule(`{"type": "io.cozy..notes", "description": "d"}`), "doubled dot"},
		{"wildcard", rule(`{"type": "io.cozy.notes.*", "description": "d"}`), "wildcard"},
		{"unknown verb", rule(`{"type": "io.cozy.notes", "verbs": ["READ"], "description": "d"}`), `unknown verb "READ"`},
		{"lower-case verb", rule(`{"type": "io.cozy.notes", "verbs": ["get"], "description": "d"}`), `unknown verb "get"`},
		{"verb twice", rule(`{"type": "io.cozy.notes", "verbs": ["GET", "GET"], "description": "d"}`), "GET twice"},
		{"ALL with others", rule(`{"type": "io.cozy.notes", "verbs": ["ALL", "GET"], "description": "d"}`), "give it alone"},
		{"empty verbs", rule(`{"type": "io.cozy.notes", "verbs": [], "description": "d"}`), "verbs: empty list"},
		{"null verbs", rule(`{"type": "io.cozy.notes", "verbs": null, "description": "d"}`), "verbs: empty list"},
		{"misspelt verbs", rule(`{"type": "io.cozy.notes", "verb": ["GET"], "description": "d"}`), `unknown field "verb"`},
		{"no description", rule(`{"type": "io.cozy.notes", "verbs": ["GET"]}`), "description: missing"},
		{"selector without values", rule(`{"type": "io.cozy.notes", "selector": "x", "description": "d"}`), "without values"},
		{"jobs without selector", rule(`{"type": "io.cozy.jobs", "verbs": ["POST"], "description": "d"}`), `"selector": "worker"`},
		{"jobs by id", rule(`{"type": "io.cozy.jobs", "values": ["j1"], "description": "d"}`), `"selector": "worker"`},
		{"triggers without selector", rule(`{"type": "io.cozy.triggers", "description": "d"}`), `"selector": "worker"`},
		{"empty label", edit(`"permissions": {`, `"permissions": {"": {"type": "io.cozy.files", "description": "d"},`), "empty label"},
		{"duplicate label", edit(`"permissions": {`, `"permissions": {"notes": {"type": "io.cozy.files", "description": "d"},`), `key "notes" appears twice in permissions`},
		{"duplicate key in a rule", rule(`{"type": "io.cozy.notes", "type": "io.cozy.files", "description": "d"}`), `key "type" appears twice in permissions.notes`},
		{"locale for an unknown permission", edit(`"short_description": "A test app"`, `"short_description": "A", "permissions": {"files": {"description": "d"}}`), "locales.en.permissions.files: no such permission"},
		{"route not a path", edit(`"langs"`, `"routes": {"x": {"folder": "/"}}, "langs"`), "routes"},
		{"too big", `{"name": "` + strings.Repeat("x", 2<<20) + `"}`, "more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := sandbox.ParseManifest([]byte(c.data))
			if err == nil {
				t.Fatalf("accepted: %+v", m)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "manifest: ") {
				t.Fatalf("error %q does not say it is about the manifest", err)
			}
		})
	}
	// The valid variants the cases above start from.
	parse(t, minimal)
	parse(t, rule(`{"type": "io.cozy.jobs", "selector": "worker", "values": ["service"], "description": "d"}`))
	if m := parse(t, rule(`{"type": "io.cozy.notes", "description": "d"}`)); !slices.Equal(m.Permissions["notes"].Granted(), []string{"GET", "POST", "PUT", "PATCH", "DELETE"}) {
		t.Fatalf("a rule without verbs grants %v, want ALL", m.Permissions["notes"].Granted())
	}
}

// wantPermissions is what the app uses, doctype -> verbs: manifest.webapp
// must declare exactly this.
var wantPermissions = map[string][]string{
	vault.DoctypeTrips:         {"GET", "POST", "PUT"},
	vault.DoctypeSettings:      {"GET", "POST", "PUT"},
	vault.DoctypeStudies:       {"GET", "POST", "PUT", "DELETE"},
	vault.DoctypeConsents:      {"GET", "POST", "PUT"},
	vault.DoctypeTransmissions: {"GET", "POST"},
	vault.DoctypeAccounts:      {"GET"},
}

func TestRealManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "manifest.webapp"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := sandbox.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Slug != "coachco2-local" || m.Name == "" || m.License == "" || m.Source == "" || len(m.Categories) == 0 {
		t.Errorf("identity: %+v", m)
	}
	if !slices.Equal(m.Langs, []string{"fr", "en"}) {
		t.Errorf("langs %v, want [fr en]", m.Langs)
	}
	if r, ok := m.Routes["/"]; !ok || r.Public || r.Index == "" {
		t.Errorf("routes %+v: want a private / route", m.Routes)
	}
	if len(m.Services) != 0 {
		t.Errorf("services %v: the app needs none", m.Services)
	}
	icon, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(m.Icon)))
	if err != nil || !strings.Contains(string(icon), "<svg") || strings.Contains(string(icon), "<script") || strings.Contains(string(icon), "href=\"http") {
		t.Errorf("icon %s: %v (want a self-contained SVG)", m.Icon, err)
	}

	got := map[string][]string{}
	for _, r := range m.Permissions {
		got[r.Type] = append(got[r.Type], r.Granted()...)
		if r.Restricted() || sandbox.IsRemote(r.Type) {
			t.Errorf("rule on %s: restricted or remote, the app needs neither", r.Type)
		}
	}
	for dt := range got {
		slices.SortFunc(got[dt], verbOrder)
	}
	for dt := range wantPermissions {
		slices.SortFunc(wantPermissions[dt], verbOrder)
	}
	if !maps.EqualFunc(got, wantPermissions, slices.Equal) {
		t.Errorf("permissions:\n got %v\nwant %v", got, wantPermissions)
	}
	for _, lang := range m.Langs {
		short, long := m.Description(lang)
		if short == "" || long == "" {
			t.Errorf("%s: short or long description missing", lang)
		}
		for label := range m.Permissions {
			if m.Locales[lang].Permissions[label].Description == "" {
				t.Errorf("locales.%s.permissions.%s: no description", lang, label)
			}
		}
	}
	if fr, en := m.Declared("fr"), m.Declared("en"); len(fr) != 6 || fr[0].Description == en[0].Description {
		t.Errorf("Declared: %d permissions, French %q, English %q", len(fr), fr[0].Description, en[0].Description)
	}

	// Under the manifest's policy the app can set up its databases, and do
	// nothing it did not declare.
	ctx := t.Context()
	p := m.Policy()
	v, plain := openVault(t, p)
	// The accounts' index, created by the connector (the app may not).
	accounts, err := plain.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureIndexes(ctx, vault.Index{Name: "by-account_type", Fields: []string{"account_type"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.EnsureProject(ctx); err != nil {
		t.Fatalf("EnsureProject under the manifest's policy: %v", err)
	}
	adb, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := adb.EnsureIndexes(ctx, vault.Index{Name: "by-account_type", Fields: []string{"account_type"}}); err != nil {
		t.Fatalf("an existing accounts index, with GET only: %v", err)
	}
	if _, err := adb.Put(ctx, "acc", map[string]any{}); !errors.Is(err, vault.ErrForbidden) {
		t.Fatalf("writing an account: %v, want ErrForbidden", err)
	}
	for _, dt := range []string{vault.DoctypeTrips, vault.DoctypeSettings, vault.DoctypeConsents, vault.DoctypeTransmissions, vault.DoctypeAccounts} {
		if err := p(dt, "DELETE"); !errors.Is(err, vault.ErrForbidden) {
			t.Errorf("DELETE on %s: %v, want ErrForbidden", dt, err)
		}
	}
	for _, dt := range []string{"io.cozy.files", "io.cozy.contacts", "io.cozy.jobs", "io.cozy.triggers", "io.cozy.remote.requests"} {
		if _, err := v.DB(ctx, dt); !errors.Is(err, vault.ErrForbidden) {
			t.Errorf("DB(%s): %v, want ErrForbidden", dt, err)
		}
	}
	if err := p(vault.DoctypeTransmissions, "PUT"); !errors.Is(err, vault.ErrForbidden) {
		t.Errorf("PUT on the transmission log: %v, want ErrForbidden (the log is append-only)", err)
	}
}

// verbOrder orders verbs as Rule.Granted does.
func verbOrder(a, b string) int {
	order := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	return slices.Index(order, a) - slices.Index(order, b)
}

// TestKonnectorManifest: the connector's manifest parses as a konnector's (not as an app's, nor an
// app's as a konnector's), and its policy grants the sync the trips and accounts it declares,
// nothing else.
func TestKonnectorManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "connector", "manifest.konnector"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.ParseManifest(data); err == nil {
		t.Error("a manifest.konnector parsed as a manifest.webapp")
	}
	app, err := os.ReadFile(filepath.Join(repoRoot, "manifest.webapp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.ParseKonnectorManifest(app); err == nil || !strings.Contains(err.Error(), `a manifest.konnector is of type "konnector"`) {
		t.Errorf("the app's manifest as a konnector's: %v", err)
	}
	m, err := sandbox.ParseKonnectorManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Policy()
	for _, c := range []struct {
		doctype, verb string
		ok            bool
	}{
		{vault.DoctypeTrips, "POST", true}, {vault.DoctypeTrips, "PUT", true}, {vault.DoctypeAccounts, "PUT", true},
		{vault.DoctypeTrips, "DELETE", false}, {vault.DoctypeAccounts, "DELETE", false}, {vault.DoctypeSettings, "GET", false},
	} {
		if err := p(c.doctype, c.verb); (err == nil) != c.ok {
			t.Errorf("%s %s: %v, want allowed %v", c.verb, c.doctype, err, c.ok)
		}
	}
}
