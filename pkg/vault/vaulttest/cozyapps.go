package vaulttest

import (
	"bytes"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// CozyApp is a webapp installed in the stack double, served on its own origin as the stack
// serves an app on its subdomain (web/routing.go, firstRouting: the host's slug picks the app).
type CozyApp struct {
	// URL is the app's origin, with a trailing slash (https://SLUG.INSTANCE/ on a real stack).
	URL string
	// Slug is the slug the app was installed under.
	Slug string
	// Token is the token the stack puts in index.html for the logged-in person: it carries the
	// manifest's permissions, with a webapp audience (model/instance, BuildAppToken).
	Token string
	// CSP is the Content-Security-Policy the double sends with each of the app's files.
	CSP string

	stack    *CozyStack
	dir      string
	name     string
	editor   string
	icon     string
	routes   map[string]appRoute
	modified time.Time
}

// appRoute is model/app's Route: a folder of the bundle served under a path of the app.
type appRoute struct {
	Folder string `json:"folder"`
	Index  string `json:"index"`
	Public bool   `json:"public"`
}

// InstallApp installs the webapp bundle in dir (its manifest.webapp and files) under slug, as
// `cozy-stack apps install SLUG file://DIR` does, and serves it until the test ends. The manifest
// is read as model/app/webapp.go's ReadManifest does: the slug is the one given, and a manifest
// without routes gets "/" -> index.html. The person is taken to be logged in (the double has no
// sessions), so index.html always gets the app's token. Its services' @event triggers are
// created (cozyjobs.go).
func (s *CozyStack) InstallApp(t testing.TB, slug, dir string) *CozyApp {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.webapp"))
	if err != nil {
		t.Fatalf("cozy stack double: install %s: %v", slug, err)
	}
	var m struct {
		Name        string                `json:"name"`
		Editor      string                `json:"editor"`
		Icon        string                `json:"icon"`
		Routes      map[string]appRoute   `json:"routes"`
		Permissions map[string]rule       `json:"permissions"`
		Services    map[string]appService `json:"services"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		// model/app/errors.go, ErrBadManifest.
		t.Fatalf("cozy stack double: install %s: Application manifest is invalid: %v", slug, err)
	}
	if m.Routes == nil {
		m.Routes = map[string]appRoute{"/": {Folder: "/", Index: "index.html"}}
	}
	a := &CozyApp{Slug: slug, stack: s, dir: dir, name: m.Name, editor: m.Editor, icon: m.Icon,
		routes: m.Routes, modified: time.Now()}
	a.Token = newToken(t, "app-"+slug)
	g := &grant{}
	for _, p := range m.Permissions {
		g.rules = append(g.rules, p)
	}
	s.addToken(a.Token, g)
	s.addServiceTriggers(t, slug, a.Token, m.Services)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/"
	a.CSP = appsCSP(s.host(), s.CSPAllowList)
	return a
}

// host is the instance's host (instance.Domain), the "parent" of its apps' subdomains.
func (s *CozyStack) host() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// ServeHTTP serves the app's files as web/apps/serve.go (Serve, ServeAppFile) does, behind the
// apps' middlewares (web/routing.go, SetupAppsHandler): the CSP and nosniff on every answer.
func (a *CozyApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", a.CSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Method "+r.Method+" not allowed", http.StatusMethodNotAllowed)
		return
	}
	route, file, ok := a.findRoute(path.Clean(r.URL.Path))
	if !ok {
		http.Error(w, "Page not found", http.StatusNotFound)
		return
	}
	if file == "" {
		a.serveIndex(w, r, route)
		return
	}
	a.serveFile(w, r, path.Join(route.Folder, file))
}

// findRoute is model/app/webapp.go's FindRoute: the route whose key has the most path segments
// in common with the start of the path, and the rest of the path.
func (a *CozyApp) findRoute(vpath string) (appRoute, string, bool) {
	parts := strings.Split(vpath, "/")
	var best appRoute
	rest, specificity, found := "", 0, false
	for key, route := range a.routes {
		keys := []string{""}
		if key != "/" {
			keys = strings.Split(key, "/")
		}
		if len(keys) > len(parts) || len(keys) < specificity {
			continue
		}
		if slices.Equal(parts[:len(keys)], keys) {
			specificity, best, found = len(keys), route, true
			rest = path.Join(parts[len(keys):]...)
		}
	}
	return best, rest, found && best.Folder != ""
}

// serveFile serves a file of the bundle as it is (web/apps/serve.go: every file but the route's
// index), 404 when it is missing.
func (a *CozyApp) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	full := filepath.Join(a.dir, filepath.FromSlash(path.Clean("/"+name)))
	data, err := os.ReadFile(full)
	if err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, path.Base(name), a.modified, bytes.NewReader(data))
}

// serveIndex serves the route's index parsed as an html/template and filled with the fields the
// stack documents (docs/client-app-dev.md; web/apps/serve.go, ServeAppFile): an index that does
// not parse is served as it is.
func (a *CozyApp) serveIndex(w http.ResponseWriter, r *http.Request, route appRoute) {
	name := path.Join(route.Folder, route.Index)
	data, err := os.ReadFile(filepath.Join(a.dir, filepath.FromSlash(path.Clean("/"+name))))
	if err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	tmpl, err := template.New(route.Index).Parse(string(data))
	if err != nil {
		a.serveFile(w, r, name)
		return
	}
	domain := a.stack.host()
	locale := a.stack.Locale
	if locale == "" {
		locale = "en"
	}
	var out bytes.Buffer
	err = tmpl.Execute(&out, map[string]any{
		"Token":     a.Token,
		"Domain":    domain,
		"Locale":    locale,
		"AppName":   a.name,
		"AppEditor": a.editor,
		"AppSlug":   a.Slug,
		"IconPath":  a.icon,
		// The stack's own assets, which the double does not serve (an app that needs them is
		// not served whole here).
		"CozyBar": template.HTML(`<link rel="stylesheet" type="text/css" href="//` + domain + `/assets/css/cozy-bar.min.css">` +
			`<script defer src="//` + domain + `/assets/js/cozy-bar.min.js"></script>`),
		"CozyClientJS": template.HTML(`<script defer src="//` + domain + `/assets/js/cozy-client.min.js"></script>`),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out.Bytes())
	}
}

// cspSource is web/middlewares/secure.go's CSPSource.
type cspSource int

const (
	cspSelf cspSource = iota
	cspNone
	cspData
	cspBlob
	cspParent
	cspWS
	cspSiblings
	cspAny
	cspUnsafeInline
	cspAllowList
)

// The stack's built-in allowlists (web/routing.go).
const (
	cspScriptSrcAllowList = "https://piwik.cozycloud.cc https://matomo.cozycloud.cc https://sentry.cozycloud.cc"
	cspImgSrcAllowList    = "https://piwik.cozycloud.cc https://matomo.cozycloud.cc " +
		"https://*.tile.openstreetmap.org https://*.tile.osm.org " +
		"https://*.tiles.mapbox.com https://api.mapbox.com"
	cspFrameSrcAllowList = "cozydrive: cozybanks:"
)

// appsCSP is the Content-Security-Policy the stack sets on apps: web/routing.go's
// SetupAppsHandler configuration, built by web/middlewares/secure.go's Secure, for a stack in
// development mode (plain http, as the double is: no scheme upgrade, no HSTS). allow is the
// config's csp_allowlist (per-context lists are left out). None of the source kinds is
// 'unsafe-eval' or 'wasm-unsafe-eval': only a list of the config can bring them.
func appsCSP(parent string, allow map[string]string) string {
	defaults, defaultAllow := validCSPList([]cspSource{cspSelf, cspParent, cspWS}, []cspSource{cspSelf, cspParent, cspWS}, allow["default"])
	var b strings.Builder
	// add("name")(sources, allowList) writes one directive; validCSPList's results pass as they are.
	add := func(name string) func([]cspSource, string) {
		return func(sources []cspSource, allowList string) {
			b.WriteString(makeCSPHeader(name, allowList, sources, parent, "*."+parent))
		}
	}
	add("default-src")(defaults, defaultAllow)
	add("script-src")(validCSPList(nil, defaults, allow["script"]+" "+cspScriptSrcAllowList))
	add("frame-src")(validCSPList([]cspSource{cspSiblings}, defaults, allow["frame"]+" "+cspFrameSrcAllowList))
	add("connect-src")(validCSPList(nil, defaults, allow["connect"]+" "+cspScriptSrcAllowList))
	add("font-src")(validCSPList([]cspSource{cspData}, defaults, allow["font"]))
	add("img-src")(validCSPList([]cspSource{cspData, cspBlob}, defaults, allow["img"]+" "+cspImgSrcAllowList))
	add("manifest-src")(validCSPList(nil, defaults, ""))
	add("media-src")(validCSPList(nil, defaults, ""))
	add("object-src")(validCSPList(nil, nil, ""))
	add("style-src")(validCSPList([]cspSource{cspUnsafeInline}, defaults, allow["style"]))
	add("worker-src")(validCSPList(nil, defaults, ""))
	// frame-ancestors and base-uri do not go through validCSPList.
	add("frame-ancestors")([]cspSource{cspSelf}, "")
	add("base-uri")(nil, "")
	add("form-action")(validCSPList(nil, nil, ""))
	return b.String()
}

// validCSPList is web/middlewares/secure.go's validCSPList for a development release: the
// allowlist's entries that parse as URLs (with "/" as an empty path, custom cozy* and blob:
// schemes kept whole), then the directive's sources, the allowlist and the defaults, without
// duplicates; nothing when there is neither a source nor an allowlist.
func validCSPList(sources, defaults []cspSource, allowList string) ([]cspSource, string) {
	var kept []string
	for _, s := range strings.Fields(allowList) {
		u, err := url.Parse(s)
		if err != nil {
			continue
		}
		if u.Path == "" {
			u.Path = "/"
		}
		if !strings.HasPrefix(u.Scheme, "cozy") && u.Scheme != "blob" {
			s = u.String()
		}
		kept = append(kept, s)
	}
	allowList = strings.Join(kept, " ")
	sources = slices.Clone(sources)
	if allowList != "" {
		sources = append(sources, cspAllowList)
	}
	if len(sources) == 0 && allowList == "" {
		return nil, ""
	}
	var unique []cspSource
	for _, s := range append(sources, defaults...) {
		if !slices.Contains(unique, s) {
			unique = append(unique, s)
		}
	}
	return unique, allowList
}

// makeCSPHeader is web/middlewares/secure.go's cspBuilder.makeCSPHeader over plain http.
func makeCSPHeader(header, allowList string, sources []cspSource, parent, siblings string) string {
	if len(sources) == 0 {
		return ""
	}
	vals := make([]string, len(sources))
	for i, src := range sources {
		switch src {
		case cspSelf:
			vals[i] = "'self'"
		case cspNone:
			vals[i] = "'none'"
		case cspData:
			vals[i] = "data:"
		case cspBlob:
			vals[i] = "blob:"
		case cspParent:
			vals[i] = "http://" + parent
		case cspWS:
			vals[i] = "ws://" + parent
		case cspSiblings:
			vals[i] = "http://" + siblings
		case cspAny:
			vals[i] = "*"
		case cspUnsafeInline:
			vals[i] = "'unsafe-inline'"
		case cspAllowList:
			vals[i] = allowList
		}
	}
	return header + " " + strings.Join(vals, " ") + ";"
}
