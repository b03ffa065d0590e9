package vaulttest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestCozyStackRemote: web/remote/remote.go and model/remote/remote.go: an app reaches the
// outside only through a remote doctype it has the permission of, with the verb of the doctype's
// request; variables fill the path (escaped), the headers and the body (with json); a missing
// variable is 400, a custom port 400 unless allowed, a refused content type 502, an unknown
// doctype 404; every request is logged in io.cozy.remote.requests with its variables.
func TestCozyStackRemote(t *testing.T) {
	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("X-Study")+" "+string(body))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/html") {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<p>no</p>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "track=1")
		_, _ = io.WriteString(w, `{"ok": true}`)
	}))
	defer collector.Close()
	const doctype = "org.coachco2.contributions"
	stack := newStack(t, konnectorManifest)
	stack.RemoteDoctypes = map[string]string{
		doctype:          "POST " + collector.URL + "/contributions/{{study}}\nContent-Type: application/json\nX-Study: {{study}}\n\n{\"measure\": \"{{json measure}}\"}",
		"org.example.in": "GET " + collector.URL + "/in",
	}
	app := stack.InstallApp(t, "demo-app", bundle(t, `{"permissions": {
		"share": {"type": "`+doctype+`", "verbs": ["POST"]},
		"in": {"type": "org.example.in", "verbs": ["POST"]},
		"none": {"type": "org.example.none", "verbs": ["POST"]}}}`, map[string]string{"index.html": "x"}))

	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"study": "s 1", "measure": "a\"b"}`).want(t, "a custom port", http.StatusBadRequest, "the request is not valid")
	stack.RemoteAllowCustomPort = true
	// A path value is put escaped into url.URL.Path, which String escapes again
	// (model/remote/remote.go, injectVariables): a value to escape would reach the remote
	// escaped twice, so the ids of studies are kept to letters and digits.
	a := request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"study": "s1", "measure": "a\"b", "comment": "kept in the log"}`).want(t, "a granted POST", http.StatusOK, "")
	if a.header.Get("Set-Cookie") != "" || a.body["ok"] != true {
		t.Fatalf("the answer: %v %s", a.header, a.raw)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != `POST /contributions/s1 s1 {"measure": "a\"b"}` {
		t.Fatalf("the collector got %q", got)
	}
	mu.Unlock()
	request(t, stack, app.Token, http.MethodGet, "remote/"+doctype, "").want(t, "a verb not granted", http.StatusForbidden, "")
	request(t, stack, app.Token, http.MethodPost, "remote/org.example.in", `{}`).want(t, "not the request's verb", http.StatusMethodNotAllowed, "")
	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"study": "s"}`).want(t, "a missing variable", http.StatusBadRequest, "no value was given")
	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"study": 1}`).want(t, "a variable not a string", http.StatusBadRequest, "the variables are not valid")
	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"study": "x/html", "measure": "m"}`).want(t, "a slash in a path value is escaped", http.StatusOK, "")
	stack.RemoteDoctypes["org.example.none"] = "POST " + collector.URL + "/html"
	request(t, stack, app.Token, http.MethodPost, "remote/org.example.none", `{}`).want(t, "an HTML answer", http.StatusBadGateway, "content-type")
	delete(stack.RemoteDoctypes, "org.example.none")
	request(t, stack, app.Token, http.MethodPost, "remote/org.example.none", `{}`).want(t, "no request defined", http.StatusNotFound, "no request defined")

	logs := request(t, stack, stack.HomeToken, http.MethodGet, "data/io.cozy.remote.requests/_all_docs?include_docs=true", "").want(t, "the log", http.StatusOK, "")
	var list struct {
		Rows []struct {
			Doc struct {
				Doctype   string            `json:"doctype"`
				URL       string            `json:"url"`
				Code      int               `json:"response_code"`
				Variables map[string]string `json:"variables"`
			} `json:"doc"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(logs.raw), &list); err != nil || len(list.Rows) != 2 {
		t.Fatalf("the log: %v %s", err, logs.raw)
	}
	found := false
	for _, r := range list.Rows {
		if r.Doc.Doctype == doctype && r.Doc.Variables["comment"] == "kept in the log" && r.Doc.Code == 200 &&
			strings.HasSuffix(r.Doc.URL, "/contributions/s1") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the first request is not logged as the stack logs it: %s", logs.raw)
	}
}

// TestCozyStackRemoteSecrets: docs/remote.md, "Secrets": the stack fills {{secret_f}} with the
// field f of the remote doctype's document in secrets/io-cozy-remote-secrets, which the app
// never sees nor can give itself, and the log keeps only the caller's variables; an unknown
// template function is a plain error (model/remote/remote.go, injectVar), which the stack
// answers 500; the host is fixed by the request (no variable can fill it).
func TestCozyStackRemoteSecrets(t *testing.T) {
	var mu sync.Mutex
	var got []string
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer remote.Close()
	const doctype = "org.example.secret"
	stack := newStack(t, konnectorManifest)
	stack.RemoteAllowCustomPort = true
	stack.RemoteDoctypes = map[string]string{
		doctype:         "POST " + remote.URL + "/x\nAuthorization: Bearer {{secret_token}}\n\n{{json body}}",
		"org.example.f": "POST " + remote.URL + "/x\n\n{{rot13 body}}",
		// The host is the request's own: variables fill the path, the query, the headers and
		// the body only, and a template in the host is no URL (ParseRawRequest).
		"org.example.host": "GET https://{{host}}/x",
	}
	app := stack.InstallApp(t, "demo-app", bundle(t, `{"permissions": {
		"s": {"type": "`+doctype+`", "verbs": ["POST"]},
		"f": {"type": "org.example.f", "verbs": ["POST"]},
		"h": {"type": "org.example.host", "verbs": ["GET"]}}}`, map[string]string{"index.html": "x"}))

	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"body": "b"}`).want(t, "no secret stored", http.StatusBadRequest, "no value was given")
	stack.RemoteSecrets = map[string]map[string]string{doctype: {"token": "s3cret"}}
	request(t, stack, app.Token, http.MethodPost, "remote/"+doctype, `{"body": "b"}`).want(t, "the secret injected", http.StatusOK, "")
	mu.Lock()
	if len(got) != 1 || got[0] != "Bearer s3cret b" {
		t.Fatalf("the remote got %q", got)
	}
	mu.Unlock()
	request(t, stack, app.Token, http.MethodPost, "remote/org.example.f", `{"body": "b"}`).want(t, "an unknown template function", http.StatusInternalServerError, "")
	request(t, stack, app.Token, http.MethodGet, "remote/org.example.host?host=example.org", "").want(t, "a variable host", http.StatusBadRequest, "the request is not valid")

	logs := request(t, stack, stack.HomeToken, http.MethodGet, "data/io.cozy.remote.requests/_all_docs?include_docs=true", "").want(t, "the log", http.StatusOK, "")
	if strings.Contains(logs.raw, "s3cret") || !strings.Contains(logs.raw, doctype) {
		t.Fatalf("the log holds the secret, or not the request: %s", logs.raw)
	}
}
