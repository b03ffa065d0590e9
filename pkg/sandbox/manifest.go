// Package sandbox confines the web app to what its manifest.webapp declares,
// as a Cozy stack confines an app to the permissions of its manifest.
//
// [ParseManifest] reads and validates a manifest; [Manifest.Policy] turns its
// permission rules into a [vault.Policy] that the app opens its vault with:
//
//	m, err := sandbox.ParseManifest(data)
//	v, err := vault.Open(ctx, dsn, instance, vault.WithPolicy(m.Policy()))
//
// Every vault operation of the app then asks the policy first, and anything
// the manifest does not declare, a doctype or a verb, is refused with an
// error matching [vault.ErrForbidden]. [Manifest.Declared] lists the
// declared permissions, with their descriptions, for the UI.
//
// Permission rules follow Cozy's format:
//
//	"permissions": {
//	  "<label>": {"type": "<doctype>", "verbs": ["GET", "PUT"], "description": "..."}
//	}
//
// The label is only a name. "verbs" is a subset of GET, POST, PUT, PATCH,
// DELETE, or ["ALL"]; a rule without "verbs" grants ALL, as in Cozy, but an
// empty list is refused as a likely mistake, and so is any unknown field of a
// rule (a misspelt "verbs" would otherwise grant ALL). A rule restricted to
// some documents ("selector", "values") cannot be enforced per doctype, so the
// policy does not grant it (the sandbox fails closed); rules on io.cozy.jobs
// and io.cozy.triggers must be restricted with "selector": "worker", as the
// stack requires. Remote doctypes (see [IsRemote]) let an app send data out
// through the stack's /remote/ API: they are listed, never granted as vault
// databases.
package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/coachco2/coachco2/pkg/vault"
)

// Verbs a permission rule may grant. VerbAll stands for all of the others.
const (
	VerbGet    = "GET"
	VerbPost   = "POST"
	VerbPut    = "PUT"
	VerbPatch  = "PATCH"
	VerbDelete = "DELETE"
	VerbAll    = "ALL"
)

// allVerbs returns the verbs ALL stands for, in their display order.
func allVerbs() []string { return []string{VerbGet, VerbPost, VerbPut, VerbPatch, VerbDelete} }

// maxManifestSize bounds the manifest ParseManifest reads.
const maxManifestSize = 1 << 20

// Manifest is a parsed and validated manifest.webapp. Its fields are those
// the stack and the registry read; others are ignored.
type Manifest struct {
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Type        string            `json:"type,omitempty"`
	Version     string            `json:"version"`
	Editor      string            `json:"editor"`
	Icon        string            `json:"icon"`
	Categories  []string          `json:"categories,omitempty"`
	Langs       []string          `json:"langs"`
	Locales     map[string]Locale `json:"locales"`
	License     string            `json:"license,omitempty"`
	Source      string            `json:"source,omitempty"`
	Routes      map[string]Route  `json:"routes,omitempty"`
	Permissions map[string]Rule   `json:"permissions"`
	Services    map[string]any    `json:"services,omitempty"`
}

// Locale holds the texts of one language.
type Locale struct {
	ShortDescription string `json:"short_description"`
	LongDescription  string `json:"long_description,omitempty"`
	// Permissions gives the description of permission rules, by label.
	Permissions map[string]struct {
		Description string `json:"description"`
	} `json:"permissions,omitempty"`
}

// Route is one route of the app: a folder of its files served at a path.
type Route struct {
	Folder string `json:"folder"`
	Index  string `json:"index,omitempty"`
	Public bool   `json:"public"`
}

// Rule is one permission rule of the manifest.
type Rule struct {
	// Type is the doctype the rule grants.
	Type string `json:"type"`
	// Verbs are the granted verbs; nil means ALL.
	Verbs []string `json:"verbs,omitempty"`
	// Values and Selector restrict the rule to some documents: those whose
	// Selector field (default: id) is one of Values.
	Values   []string `json:"values,omitempty"`
	Selector string   `json:"selector,omitempty"`
	// Description says why the app needs it (in English; the locales
	// translate it).
	Description string `json:"description"`
}

// Doctypes whose rules the stack requires to be restricted by worker.
const (
	DoctypeJobs     = "io.cozy.jobs"
	DoctypeTriggers = "io.cozy.triggers"
)

// IsRemote reports whether doctype is a remote doctype: one that names a
// request to an outside service (through the stack's /remote/ API), not a
// database of the instance. The instance's own doctypes, Cozy's and the
// apps', live in the io.cozy namespace; remote doctypes are published under
// their owner's namespace (cc.cozycloud.dacc_v2, org.wikidata.entity...).
func IsRemote(doctype string) bool { return !strings.HasPrefix(doctype, "io.cozy.") }

// ParseManifest decodes and validates a manifest.webapp. Its errors say what
// is wrong and where ("permissions.trips: ...").
func ParseManifest(data []byte) (*Manifest, error) { return parseManifest(data, "webapp") }

// ParseKonnectorManifest decodes and validates a manifest.konnector (type
// "konnector"), as [ParseManifest] does a manifest.webapp: its permissions
// give the policy a konnector's runs go through.
func ParseKonnectorManifest(data []byte) (*Manifest, error) { return parseManifest(data, "konnector") }

func parseManifest(data []byte, kind string) (*Manifest, error) {
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("manifest: %d bytes, more than the %d allowed", len(data), maxManifestSize)
	}
	var top map[string]json.RawMessage
	if err := decodeOne(data, &top, false); err != nil {
		return nil, fmt.Errorf("manifest: not a JSON object: %w", err)
	}
	if top == nil {
		return nil, errors.New("manifest: not a JSON object")
	}
	if err := noDuplicateKeys(data); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	// Rules are decoded strictly below; decode the rest leniently.
	rawPerms := top["permissions"]
	delete(top, "permissions")
	rest, _ := json.Marshal(top)
	if err := json.Unmarshal(rest, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if len(rawPerms) > 0 && string(rawPerms) != "null" {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(rawPerms, &raw); err != nil {
			return nil, fmt.Errorf("manifest: permissions: want an object of rules by label: %w", err)
		}
		m.Permissions = make(map[string]Rule, len(raw))
		for _, label := range slices.Sorted(maps.Keys(raw)) {
			r := raw[label]
			if strings.TrimSpace(label) == "" {
				return nil, errors.New("manifest: permissions: a rule has an empty label")
			}
			var rule Rule
			if err := decodeOne(r, &rule, true); err != nil {
				return nil, fmt.Errorf("manifest: permissions.%s: %w", label, err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(r, &fields); err != nil || fields == nil {
				return nil, fmt.Errorf("manifest: permissions.%s: want an object {\"type\": ..., \"verbs\": [...]}", label)
			}
			if _, given := fields["verbs"]; given && len(rule.Verbs) == 0 {
				return nil, fmt.Errorf("manifest: permissions.%s: verbs: empty list (omit \"verbs\" to grant ALL)", label)
			}
			m.Permissions[label] = rule
		}
	}
	if err := m.validate(kind); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// decodeOne decodes exactly one JSON value from data into v.
func decodeOne(data []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// noDuplicateKeys refuses a JSON document in which an object has the same key
// twice: decoders keep one of them, so a permission rule could hide another.
func noDuplicateKeys(data []byte) error {
	return checkKeys(json.NewDecoder(bytes.NewReader(data)), "")
}

// checkKeys reads one JSON value from dec and refuses duplicated keys in it.
func checkKeys(dec *json.Decoder, at string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				where := at
				if where == "" {
					where = "the top level"
				}
				return fmt.Errorf("key %q appears twice in %s", key, where)
			}
			seen[key] = true
			if err := checkKeys(dec, strings.TrimPrefix(at+"."+key, ".")); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// validate checks the manifest's fields and rules.
func (m *Manifest) validate(kind string) error {
	var (
		slugRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
		versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$`)
		langRE    = regexp.MustCompile(`^[a-z]{2}(?:[-_][A-Za-z]{2})?$`)
	)
	switch {
	case strings.TrimSpace(m.Name) == "":
		return errors.New("name: missing")
	case m.Slug == "":
		return errors.New("slug: missing")
	case !slugRE.MatchString(m.Slug):
		return fmt.Errorf("slug %q: want lower-case letters, digits and dashes", m.Slug)
	case kind == "webapp" && m.Type != "" && m.Type != "webapp":
		return fmt.Errorf("type %q: a manifest.webapp is of type \"webapp\"", m.Type)
	case kind != "webapp" && m.Type != kind:
		return fmt.Errorf("type %q: a manifest.%s is of type %q", m.Type, kind, kind)
	case m.Version == "":
		return errors.New("version: missing")
	case !versionRE.MatchString(m.Version):
		return fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", m.Version)
	case strings.TrimSpace(m.Editor) == "":
		return errors.New("editor: missing")
	}
	// An app needs its icon on the home screen; a konnector's is optional.
	if kind == "webapp" || m.Icon != "" {
		if err := relativeFile("icon", m.Icon); err != nil {
			return err
		}
	}
	if len(m.Langs) == 0 {
		return errors.New("langs: missing (e.g. [\"fr\", \"en\"])")
	}
	for _, lang := range m.Langs {
		if !langRE.MatchString(lang) {
			return fmt.Errorf("langs: %q is not a language code", lang)
		}
		loc, ok := m.Locales[lang]
		if !ok {
			return fmt.Errorf("locales.%s: missing for a language of langs", lang)
		}
		if strings.TrimSpace(loc.ShortDescription) == "" {
			return fmt.Errorf("locales.%s.short_description: missing", lang)
		}
	}
	for lang, loc := range m.Locales {
		if !slices.Contains(m.Langs, lang) {
			return fmt.Errorf("locales.%s: not a language of langs %v", lang, m.Langs)
		}
		for label := range loc.Permissions {
			if _, ok := m.Permissions[label]; !ok {
				return fmt.Errorf("locales.%s.permissions.%s: no such permission", lang, label)
			}
		}
	}
	for p, r := range m.Routes {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("routes: %q: a route is a path starting with /", p)
		}
		if !strings.HasPrefix(r.Folder, "/") || strings.Contains(r.Folder, "..") {
			return fmt.Errorf("routes.%s.folder %q: want an absolute path within the app", p, r.Folder)
		}
		if r.Index != "" {
			if err := relativeFile("routes."+p+".index", r.Index); err != nil {
				return err
			}
		}
	}
	for _, label := range slices.Sorted(maps.Keys(m.Permissions)) {
		if err := m.Permissions[label].validate(); err != nil {
			return fmt.Errorf("permissions.%s: %w", label, err)
		}
	}
	return nil
}

// relativeFile checks that name is a relative path inside the app.
func relativeFile(field, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s: missing", field)
	case path.IsAbs(name), strings.Contains(name, "\\"), path.Clean(name) != name, strings.HasPrefix(name, "../"), name == "..":
		return fmt.Errorf("%s %q: want a clean relative path inside the app", field, name)
	}
	return nil
}

// validate checks one permission rule.
func (r Rule) validate() error {
	if r.Type == "" {
		return errors.New("type: missing (the doctype the rule grants)")
	}
	if strings.Contains(r.Type, "*") {
		return fmt.Errorf("type %q: wildcard doctypes are not supported: declare each doctype", r.Type)
	}
	if err := vault.ValidateDoctype(r.Type); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	seen := map[string]bool{}
	for _, v := range r.Verbs {
		switch v {
		case VerbGet, VerbPost, VerbPut, VerbPatch, VerbDelete, VerbAll:
		default:
			return fmt.Errorf("verbs: unknown verb %q (want GET, POST, PUT, PATCH, DELETE or ALL)", v)
		}
		if seen[v] {
			return fmt.Errorf("verbs: %s twice", v)
		}
		seen[v] = true
	}
	if seen[VerbAll] && len(r.Verbs) > 1 {
		return errors.New("verbs: ALL already grants every verb: give it alone")
	}
	if r.Selector != "" && len(r.Values) == 0 {
		return fmt.Errorf("selector %q: without values it selects nothing", r.Selector)
	}
	for _, v := range r.Values {
		if v == "" {
			return errors.New("values: empty value")
		}
	}
	if (r.Type == DoctypeJobs || r.Type == DoctypeTriggers) && (r.Selector != "worker" || len(r.Values) == 0) {
		return fmt.Errorf("type %s: the rule must be restricted to workers: \"selector\": \"worker\" with \"values\": [...]", r.Type)
	}
	if strings.TrimSpace(r.Description) == "" {
		return errors.New("description: missing (say why the app needs it)")
	}
	return nil
}

// Granted returns the verbs the rule grants, ALL expanded, in the order GET,
// POST, PUT, PATCH, DELETE.
func (r Rule) Granted() []string {
	if len(r.Verbs) == 0 || slices.Contains(r.Verbs, VerbAll) {
		return allVerbs()
	}
	var out []string
	for _, v := range allVerbs() {
		if slices.Contains(r.Verbs, v) {
			out = append(out, v)
		}
	}
	return out
}

// Restricted reports whether the rule covers only some documents (values,
// selector) rather than the whole doctype.
func (r Rule) Restricted() bool { return len(r.Values) > 0 || r.Selector != "" }
