package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/vault"
)

// What the apps registry accepts, from its README ("Properties meaning", "Konnectors fields
// property", "Categories and Data types") and registry/registry.go (IsValidApp, validSlugReg,
// validVersionReg, the tarball checks).
var (
	registrySlug       = regexp.MustCompile(`^[a-z0-9\-]*$`)
	registryVersion    = regexp.MustCompile(`^(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})\.(0|[1-9][0-9]{0,4})(-dev\.[a-f0-9]{1,40}|-beta.(0|[1-9][0-9]{0,4}))?$`)
	registryCategories = []string{"energy", "insurance", "isp", "shopping", "telecom", "transport", "banking", "health",
		"host_provider", "online_services", "partners", "press", "productivity", "public_service", "social"}
	registryDataTypes = []string{"activity", "appointment", "bankTransactions", "bankAccounts", "bill", "bloodPressure",
		"calendar", "certificate", "commit", "consumption", "contact", "contract", "courseMaterial", "document", "event",
		"family", "geopoint", "heartbeat", "home", "phonecommunicationlog", "podcast", "profile", "refund", "sinister",
		"sleepTime", "stepsNumber", "temperature", "travelDate", "tweet", "videostream", "weight"}
	registryFrequencies = []string{"monthly", "weekly", "daily"}
	registryFieldTypes  = []string{"dropdown", "email", "hidden", "password", "text", "checkbox"}
	// harvestLabels are the field labels Cozy's Harvest translates (cozy-libs
	// packages/cozy-harvest-lib/src/locales/en.json, "fields"): a label must be one of them.
	harvestLabels = []string{"answer", "birthdate", "code", "date", "email", "firstname", "lastname", "login",
		"password", "phone", "two_fa_code"}
	// officialSlugs are slugs of Cozy's own apps and konnectors this project must not take:
	// Cozy's OpenPATH and Tracemob konnectors, and its Coach CO2 app.
	officialSlugs   = []string{"openpath", "tracemob", "coachco2"}
	permissionVerbs = []string{"ALL", "GET", "POST", "PUT", "PATCH", "DELETE"}
)

// manifest is what the registry and the stack read of a manifest.
type manifest struct {
	Type       string   `json:"type"`
	Slug       string   `json:"slug"`
	Name       string   `json:"name"`
	Editor     string   `json:"editor"`
	Version    string   `json:"version"`
	Language   string   `json:"language"`
	License    string   `json:"license"`
	Icon       string   `json:"icon"`
	Categories []string `json:"categories"`
	DataTypes  []string `json:"data_types"`
	Frequency  string   `json:"frequency"`
	Langs      []string `json:"langs"`
	Fields     map[string]struct {
		Type  string `json:"type"`
		Label string `json:"label"`
	} `json:"fields"`
	Parameters  json.RawMessage `json:"parameters"`
	Routes      map[string]any  `json:"routes"`
	Permissions map[string]struct {
		Type  string   `json:"type"`
		Verbs []string `json:"verbs"`
	} `json:"permissions"`
	Locales map[string]struct {
		ShortDescription string `json:"short_description"`
		LongDescription  string `json:"long_description"`
		Fields           map[string]struct {
			Label string `json:"label"`
		} `json:"fields"`
		Permissions map[string]struct {
			Description string `json:"description"`
		} `json:"permissions"`
	} `json:"locales"`
}

func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// checkCommon checks what the registry asks of every application.
func checkCommon(t *testing.T, m manifest, appType string) {
	t.Helper()
	if m.Type != appType {
		t.Errorf("type %q, want %q", m.Type, appType)
	}
	if m.Slug == "" || !registrySlug.MatchString(m.Slug) || slices.Contains(officialSlugs, m.Slug) {
		t.Errorf("slug %q: want lowercase letters, digits and dashes, and none of Cozy's own slugs %v", m.Slug, officialSlugs)
	}
	if m.Name == "" || m.Editor == "" || m.License == "" || m.Icon == "" {
		t.Errorf("name %q, editor %q, license %q, icon %q: all required", m.Name, m.Editor, m.License, m.Icon)
	}
	if !registryVersion.MatchString(m.Version) {
		t.Errorf("version %q is not the registry's X.Y.Z", m.Version)
	}
	for _, c := range m.Categories {
		if !slices.Contains(registryCategories, c) {
			t.Errorf("category %q is not one of the registry's", c)
		}
	}
	for _, lang := range append([]string{"en"}, m.Langs...) {
		l, ok := m.Locales[lang]
		if !ok || l.ShortDescription == "" || l.LongDescription == "" {
			t.Errorf("locale %q: want short and long descriptions (en is the registry's fallback)", lang)
		}
		for name := range m.Permissions {
			if l.Permissions[name].Description == "" {
				t.Errorf("locale %q: permission %q has no description", lang, name)
			}
		}
	}
	for name, p := range m.Permissions {
		if err := vault.ValidateDoctype(p.Type); err != nil {
			t.Errorf("permission %q: %v", name, err)
		}
		for _, v := range p.Verbs {
			if !slices.Contains(permissionVerbs, v) {
				t.Errorf("permission %q: verb %q", name, v)
			}
		}
	}
}

// TestKonnectorManifestPassesTheRegistry: manifest.konnector is what the registry accepts and
// what the stock stack runs.
func TestKonnectorManifestPassesTheRegistry(t *testing.T) {
	m := readManifest(t, "manifest.konnector")
	checkCommon(t, m, "konnector")
	if m.Slug != accounts.Slug {
		t.Errorf("slug %q: the accounts Harvest makes for it have account_type %q", m.Slug, accounts.Slug)
	}
	// The stack's runner executes Node.js on the konnector's folder (cozy-stack
	// scripts/konnector-node-run.sh): the package's index.js starts the bundled binary.
	if m.Language != "node" {
		t.Errorf("language %q: the stock runner only runs node", m.Language)
	}
	if !slices.Contains(registryFrequencies, m.Frequency) {
		t.Errorf("frequency %q is not one of %v", m.Frequency, registryFrequencies)
	}
	// The registry's list of data types has no "geojson" (Cozy's Tracemob konnector declares it
	// anyway); trips are located data: "geopoint".
	if len(m.DataTypes) == 0 {
		t.Error("no data_types")
	}
	for _, d := range m.DataTypes {
		if !slices.Contains(registryDataTypes, d) {
			t.Errorf("data type %q is not one of the registry's", d)
		}
	}
	// The account's fields, as the konnector reads them from auth.
	for _, name := range []string{"login", "password", "serverUrl"} {
		if _, ok := m.Fields[name]; !ok {
			t.Errorf("no field %q", name)
		}
	}
	for name, f := range m.Fields {
		if !slices.Contains(registryFieldTypes, f.Type) {
			t.Errorf("field %q: type %q", name, f.Type)
		}
		if f.Label != "" && !slices.Contains(harvestLabels, f.Label) {
			t.Errorf("field %q: label %q is no key Harvest translates %v", name, f.Label, harvestLabels)
		}
		for _, lang := range m.Langs {
			if m.Locales[lang].Fields[name].Label == "" && f.Label == "" {
				t.Errorf("field %q has no label in %q", name, lang)
			}
		}
	}
	var params map[string]any
	if err := json.Unmarshal(m.Parameters, &params); err != nil {
		t.Errorf("parameters: want an object (COZY_PARAMETERS): %v", err)
	}
}

// TestWebappManifestPassesTheRegistry: manifest.webapp (and the app's copy, which
// app/manifest_test.go holds identical) is what the registry accepts.
func TestWebappManifestPassesTheRegistry(t *testing.T) {
	m := readManifest(t, "../manifest.webapp")
	checkCommon(t, m, "webapp")
	if len(m.Routes) == 0 {
		t.Error("a webapp needs routes")
	}
}
