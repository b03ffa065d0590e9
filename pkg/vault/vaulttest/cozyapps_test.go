package vaulttest_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/browsertest"
)

// These tests hold the part of the double that serves apps to cozy-stack's source:
// web/routing.go (SetupAppsHandler, firstRouting), web/apps/serve.go (ServeAppFile),
// model/app/webapp.go (ReadManifest, FindRoute), web/middlewares/secure.go and cors.go.

// appManifest grants one doctype, for reading only.
const appManifest = `{"name": "Demo", "editor": "Us", "icon": "icon.svg",
	"routes": {"/": {"folder": "/", "index": "index.html", "public": false}},
	"permissions": {"settings": {"type": "io.cozy.coachco2.settings", "verbs": ["GET"]}}}`

// bundle writes an app bundle: the manifest and files (name -> content).
func bundle(t *testing.T, manifest string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["manifest.webapp"] = manifest
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func get(t *testing.T, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// wantAppsCSP is the CSP of web/routing.go's SetupAppsHandler as web/middlewares/secure.go
// writes it for a development stack (http) whose instance is host, written out by hand from
// those files: each directive's own sources, its allowlist (entries given a "/" path), then
// default-src's sources. validCSPList returns nothing for a directive with neither sources nor
// an allowlist, before adding the defaults: manifest-src, media-src, object-src, worker-src,
// base-uri and form-action are left out (browsers fall back to default-src for most of them).
func wantAppsCSP(host string) string {
	d := "'self' http://" + host + " ws://" + host + ";"
	stats := "https://piwik.cozycloud.cc/ https://matomo.cozycloud.cc/"
	return "default-src " + d +
		"script-src " + stats + " https://sentry.cozycloud.cc/ " + d +
		"frame-src http://*." + host + " cozydrive: cozybanks: " + d +
		"connect-src " + stats + " https://sentry.cozycloud.cc/ " + d +
		"font-src data: " + d +
		"img-src data: blob: " + stats + " https://*.tile.openstreetmap.org/ https://*.tile.osm.org/ https://*.tiles.mapbox.com/ https://api.mapbox.com/ " + d +
		"style-src 'unsafe-inline' " + d +
		"frame-ancestors 'self';"
}

// TestCozyStackServesAnInstalledApp: the index is a template filled with the token, the
// instance's domain and locale, the app's name and icon (docs/client-app-dev.md,
// web/apps/serve.go); other files are served as they are; a path outside the routes is 404,
// another verb 405; every answer has the apps' CSP.
func TestCozyStackServesAnInstalledApp(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	stack.Locale = "fr"
	app := stack.InstallApp(t, "demo-app", bundle(t, appManifest, map[string]string{
		"index.html": `<html lang="{{.Locale}}"><body data-token="{{.Token}}" data-cozy-stack="{{.Domain}}">{{.AppName}} {{.IconPath}}</body></html>`,
		"js/app.js":  `let x = "{{.Token}}"`,
	}))
	host := strings.TrimSuffix(strings.TrimPrefix(stack.URL, "http://"), "/")
	resp, body := get(t, app.URL, nil)
	want := `<html lang="fr"><body data-token="` + app.Token + `" data-cozy-stack="` + host + `">Demo icon.svg</body></html>`
	if resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("index: %s %q, want %q", resp.Status, body, want)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != wantAppsCSP(host) {
		t.Fatalf("CSP:\n got %s\nwant %s", got, wantAppsCSP(host))
	}
	if strings.Contains(app.CSP, "unsafe-eval") {
		t.Fatalf("the apps' CSP allows eval: %s", app.CSP)
	}
	resp, body = get(t, app.URL+"js/app.js", nil)
	if resp.StatusCode != http.StatusOK || body != `let x = "{{.Token}}"` || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("a file: %s %s %q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatal("a file without the CSP")
	}
	if resp, _ := get(t, app.URL+"nothing.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a missing file: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, app.URL, strings.NewReader("x"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A route under "/sub" only: "/" is not found (model/app FindRoute).
	sub := stack.InstallApp(t, "sub-app", bundle(t, `{"routes": {"/sub": {"folder": "/s", "index": "i.html"}}}`,
		map[string]string{"s/i.html": "{{.AppSlug}}"}))
	if resp, _ := get(t, sub.URL, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("outside the routes: %s", resp.Status)
	}
	if resp, body := get(t, sub.URL+"sub", nil); resp.StatusCode != http.StatusOK || body != "sub-app" {
		t.Fatalf("the sub route: %s %q", resp.Status, body)
	}
}

// TestCozyStackAppTokenHasTheManifestPermissions: the app's token carries its manifest's
// permissions (model/permission, CreateWebappSet): a doctype or a verb outside them is 403 on
// /data, and an app's token does not get accounts' credentials decrypted (web/data/accounts.go).
func TestCozyStackAppTokenHasTheManifestPermissions(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	app := stack.InstallApp(t, "demo-app", bundle(t, appManifest, map[string]string{"index.html": "x"}))
	request(t, stack, stack.HomeToken, http.MethodPut, "data/io.cozy.coachco2.settings/s", `{"a": 1}`).want(t, "Home creates", http.StatusOK, "")
	request(t, stack, app.Token, http.MethodGet, "data/io.cozy.coachco2.settings/s", "").want(t, "granted", http.StatusOK, "")
	request(t, stack, app.Token, http.MethodPut, "data/io.cozy.coachco2.settings/s", `{"a": 2}`).want(t, "a verb not granted", http.StatusForbidden, "Forbidden")
	request(t, stack, stack.HomeToken, http.MethodPut, "data/"+trips+"/t", `{"km": 1}`).want(t, "Home creates", http.StatusOK, "")
	request(t, stack, app.Token, http.MethodGet, "data/"+trips+"/t", "").want(t, "a doctype not granted", http.StatusForbidden, "Forbidden")
	request(t, stack, app.Token, http.MethodPost, "data/"+trips+"/_find", `{"selector": {}}`).want(t, "_find not granted", http.StatusForbidden, "")
}

// TestCozyStackCORS: web/middlewares/cors.go lets the app's origin call the API with its token:
// a preflight gets 204 with the methods and the asked headers, an answer the origin back.
func TestCozyStackCORS(t *testing.T) {
	stack := newStack(t, konnectorManifest)
	app := stack.InstallApp(t, "demo-app", bundle(t, appManifest, map[string]string{"index.html": "x"}))
	origin := strings.TrimSuffix(app.URL, "/")
	req, _ := http.NewRequest(http.MethodOptions, stack.URL+"data/io.cozy.coachco2.settings/s", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
		h.Get("Access-Control-Allow-Headers") != "authorization,content-type" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") ||
		h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight: %s %v", resp.Status, h)
	}
	resp, _ = get(t, stack.URL+"data/", http.Header{"Origin": {origin}})
	if resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("no CORS on an answer: %v", resp.Header)
	}
}

// wasmProbe compiles the smallest WebAssembly module and says whether the browser let it.
const wasmProbe = `WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))
	.then(() => { document.getElementById("wasm").textContent = "compiled" },
	      (e) => { document.getElementById("wasm").textContent = "refused: " + e })`

// TestCozyAppCSPForbidsWebAssembly: under the CSP a stock stack sets on apps, Chromium refuses
// to compile WebAssembly (no 'wasm-unsafe-eval' in script-src), which is why the coach's engine
// runs on the stack side in a Cozy (README, "In your Cozy"); only a stack whose administrator
// adds 'wasm-unsafe-eval' to csp_allowlist lets it.
func TestCozyAppCSPForbidsWebAssembly(t *testing.T) {
	files := func() map[string]string {
		return map[string]string{"index.html": `<!DOCTYPE html><p id="wasm">waiting</p><script src="probe.js"></script>`, "probe.js": wasmProbe}
	}
	stack := newStack(t, konnectorManifest)
	app := stack.InstallApp(t, "stock", bundle(t, appManifest, files()))
	b := browsertest.New(t, app.URL)
	b.Navigate("/")
	if got := b.WaitText("#wasm", "re"); !strings.HasPrefix(got, "refused") {
		t.Fatalf("a stock stack's CSP let WebAssembly compile: %s", got)
	}

	allowing := newStack(t, konnectorManifest)
	allowing.CSPAllowList = map[string]string{"script": "'wasm-unsafe-eval'"}
	app = allowing.InstallApp(t, "allowing", bundle(t, appManifest, files()))
	u, _ := url.Parse(app.URL)
	b.Navigate(u.String())
	if got := b.WaitText("#wasm", "e"); got != "compiled" {
		t.Fatalf("with 'wasm-unsafe-eval' in csp_allowlist: %s", got)
	}
}
