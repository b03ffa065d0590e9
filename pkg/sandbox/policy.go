package sandbox

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/coachco2/coachco2/pkg/vault"
)

// Policy returns the vault policy of the manifest: a verb on a doctype is
// allowed when a rule of the manifest grants it on the whole doctype, and
// refused otherwise with an error matching [vault.ErrForbidden]. Rules
// restricted to some documents (values, selector) and rules on remote
// doctypes grant nothing in the vault. The policy is a snapshot: later
// changes to m do not affect it. It is safe for concurrent use.
func (m *Manifest) Policy() vault.Policy {
	granted := map[string]map[string]bool{} // doctype -> verb -> granted
	for _, r := range m.Permissions {
		if r.Restricted() || IsRemote(r.Type) {
			continue
		}
		if granted[r.Type] == nil {
			granted[r.Type] = map[string]bool{}
		}
		for _, v := range r.Granted() {
			granted[r.Type][v] = true
		}
	}
	slug := m.Slug
	return func(doctype, verb string) error {
		verbs, ok := granted[doctype]
		switch {
		case !ok:
			return fmt.Errorf("%w: the manifest of %s declares no permission on %s", vault.ErrForbidden, slug, doctype)
		case verb == vault.VerbAny:
			return nil // a doctype in granted has at least one verb
		case !verbs[verb]:
			return fmt.Errorf("%w: the manifest of %s grants %s on %s, not %s",
				vault.ErrForbidden, slug, strings.Join(sortedVerbs(verbs), ", "), doctype, verb)
		}
		return nil
	}
}

// sortedVerbs returns the granted verbs in the order GET, POST, PUT, PATCH, DELETE.
func sortedVerbs(verbs map[string]bool) []string {
	var out []string
	for _, v := range allVerbs() {
		if verbs[v] {
			out = append(out, v)
		}
	}
	return out
}

// Declared is one permission of the manifest, as the UI shows it.
type Declared struct {
	Label   string
	Doctype string
	// Verbs are the granted verbs, ALL expanded.
	Verbs []string
	// Description is the rule's description in the asked language (the
	// rule's own when the locale has none).
	Description string
	// Remote is true for a remote doctype: a request to an outside service,
	// not a database of the vault.
	Remote bool
	// Restricted is true for a rule limited to some documents (values,
	// selector), which the vault policy does not grant.
	Restricted bool
	// Selector and Values are the restriction, if any.
	Selector string
	Values   []string
}

// Declared lists the manifest's permissions for the UI, with descriptions in
// lang when the manifest has them: vault doctypes first, then remote ones,
// each sorted by doctype and label.
func (m *Manifest) Declared(lang string) []Declared {
	loc := m.Locales[lang]
	var out []Declared
	for label, r := range m.Permissions {
		d := Declared{
			Label: label, Doctype: r.Type, Verbs: r.Granted(), Description: r.Description,
			Remote: IsRemote(r.Type), Restricted: r.Restricted(), Selector: r.Selector, Values: slices.Clone(r.Values),
		}
		if t := loc.Permissions[label].Description; strings.TrimSpace(t) != "" {
			d.Description = t
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Declared) int {
		if a.Remote != b.Remote {
			if a.Remote {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Doctype, b.Doctype), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// Description returns the short and long descriptions of the app in lang,
// or in the first language of the manifest when it has none in lang.
func (m *Manifest) Description(lang string) (short, long string) {
	loc, ok := m.Locales[lang]
	if !ok && len(m.Langs) > 0 {
		loc = m.Locales[m.Langs[0]]
	}
	return loc.ShortDescription, loc.LongDescription
}
