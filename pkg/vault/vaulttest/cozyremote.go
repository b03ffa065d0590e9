package vaulttest

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
)

// remoteRequestsDoctype is where the stack logs the requests made through /remote.
const remoteRequestsDoctype = "io.cozy.remote.requests"

// The errors of model/remote/remote.go, with the statuses web/remote/remote.go gives them.
var (
	errNotFoundRemote     = errors.New("the doctype has no request defined")
	errInvalidRequest     = errors.New("the request is not valid")
	errRequestFailed      = errors.New("can't connect to the remote host")
	errInvalidVariables   = errors.New("the variables are not valid")
	errMissingVar         = errors.New("a variable is used in the template, but no value was given")
	errInvalidContentType = errors.New("the content-type for the response is not authorized")
	// errUnknownFunction is injectVar's fmt.Errorf("remote: unknown template function %s"):
	// wrapRemoteErr does not know it, so the stack answers it 500 (echo's default).
	errUnknownFunction = errors.New("remote: unknown template function")
)

// remoteDef is model/remote's Remote: a remote doctype's request.
type remoteDef struct {
	verb    string
	url     *url.URL
	headers map[string]string
	body    string
}

// parseRemoteRequest is model/remote/remote.go's ParseRawRequest: the verb (GET or POST) and an
// http(s) URL on the first line, then headers, then for a POST a blank line and the body.
func parseRemoteRequest(raw string) (*remoteDef, error) {
	lines := strings.Split(raw, "\n")
	parts := strings.SplitN(lines[0], " ", 2)
	if len(parts) != 2 || parts[0] != http.MethodGet && parts[0] != http.MethodPost {
		return nil, errInvalidRequest
	}
	u, err := url.Parse(parts[1])
	if err != nil || u.Scheme != "https" && u.Scheme != "http" {
		return nil, errInvalidRequest
	}
	r := &remoteDef{verb: parts[0], url: u, headers: map[string]string{}}
	for i, line := range lines[1:] {
		if line == "" {
			if r.verb == http.MethodGet {
				continue
			}
			r.body = strings.Join(lines[i+2:], "\n")
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, errInvalidRequest
		}
		r.headers[k] = strings.TrimSpace(v)
	}
	return r, nil
}

var injection = regexp.MustCompile(`{{[0-9A-Za-z_ ]+}}`)

// injectVar is model/remote/remote.go's injectVar: {{name}} or {{function name}}, the function
// being the part's own (path, query, header) or, in the body, one of json, html, query, path.
func injectVar(src string, vars map[string]string, defaultFunc string) (string, error) {
	var err error
	out := injection.ReplaceAllStringFunc(src, func(m string) string {
		m = strings.TrimSpace(m[2 : len(m)-2])
		fn, name := defaultFunc, m
		if defaultFunc == "" {
			if f, n, ok := strings.Cut(m, " "); ok {
				fn, name = f, n
			}
		}
		val, ok := vars[name]
		if !ok {
			err = errMissingVar
			return ""
		}
		switch fn {
		case "":
			return val
		case "query":
			return url.QueryEscape(val)
		case "path":
			return url.PathEscape(val)
		case "header":
			return strings.ReplaceAll(val, "\n", "\\n")
		case "json":
			b, _ := json.Marshal(val)
			return string(b[1 : len(b)-1])
		case "html":
			return html.EscapeString(val)
		}
		err = errUnknownFunction
		return ""
	})
	return out, err
}

// remote answers GET and POST /remote/:doctype as web/remote/remote.go and
// model/remote/remote.go do: the token needs the verb on the doctype, whose request (the
// stack's doctypes folder, here RemoteDoctypes) must use the same verb; the variables come from
// the query string (GET) or a JSON object of strings (POST); the request goes to the default
// port only (unless RemoteAllowCustomPort, as `cozy-stack serve --remote-allow-custom-port`);
// only JSON, XML, plain text, image, audio and video answers pass; each request is logged in
// io.cozy.remote.requests with its variables, and the answer is copied without the remote's
// cookies, CORS and security headers.
func (s *CozyStack) remote(w http.ResponseWriter, r *http.Request, doctype string) {
	fail := func(err error) {
		status := map[error]int{errNotFoundRemote: http.StatusNotFound, errInvalidRequest: http.StatusBadRequest,
			errRequestFailed: http.StatusBadGateway, errInvalidVariables: http.StatusBadRequest,
			errMissingVar: http.StatusBadRequest, errInvalidContentType: http.StatusBadGateway}[err]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		jsonapiError(w, status, err.Error())
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	c := &call{s: s, w: w, r: r, doctype: doctype}
	if _, ok := c.allowWholeType(r.Method); !ok {
		return
	}
	raw, ok := s.RemoteDoctypes[doctype]
	if !ok {
		fail(errNotFoundRemote)
		return
	}
	def, err := parseRemoteRequest(raw)
	if err != nil {
		fail(err)
		return
	}
	if def.verb != r.Method {
		jsonapiError(w, http.StatusMethodNotAllowed, def.verb+" is the only method allowed")
		return
	}
	vars := map[string]string{}
	if r.Method == http.MethodGet {
		for k, v := range r.URL.Query() {
			vars[k] = v[0]
		}
	} else if err := json.NewDecoder(r.Body).Decode(&vars); err != nil {
		fail(errInvalidVariables)
		return
	}
	// The secrets are variables the caller cannot see (docs/remote.md, "Secrets": the document
	// of the remote doctype in secrets/io-cozy-remote-secrets, field f as {{secret_f}}); the log
	// keeps the caller's variables, which the docs say it logs. The stored model/remote/remote.go
	// predates the secrets, whose injection the docs describe.
	logged := vars
	if secrets := s.RemoteSecrets[doctype]; len(secrets) > 0 {
		all := make(map[string]string, len(vars)+len(secrets))
		for k, v := range vars {
			all[k] = v
		}
		for k, v := range secrets {
			all["secret_"+k] = v
		}
		vars = all
	}
	if def.url.Path, err = injectVar(def.url.Path, vars, "path"); err == nil {
		if def.url.RawQuery, err = injectVar(def.url.RawQuery, vars, "query"); err == nil {
			for k, v := range def.headers {
				if def.headers[k], err = injectVar(v, vars, "header"); err != nil {
					break
				}
			}
			if err == nil {
				def.body, err = injectVar(def.body, vars, "")
			}
		}
	}
	if err != nil {
		fail(err)
		return
	}
	if def.url.Port() != "" && !s.RemoteAllowCustomPort {
		fail(errInvalidRequest)
		return
	}
	def.url.User, def.url.Fragment = nil, ""
	var body io.Reader
	if def.verb == http.MethodPost {
		body = strings.NewReader(def.body)
	}
	req, err := http.NewRequestWithContext(r.Context(), def.verb, def.url.String(), body)
	if err != nil {
		fail(errInvalidRequest)
		return
	}
	req.Header.Set("User-Agent", "cozy-stack (vaulttest)")
	for k, v := range def.headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		fail(errRequestFailed)
		return
	}
	defer resp.Body.Close()
	ctype, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	class, _, _ := strings.Cut(ctype, "/")
	switch {
	case err != nil:
		fail(errInvalidContentType)
		return
	case ctype == "application/json", ctype == "text/xml", ctype == "text/plain", ctype == "application/xml",
		ctype == "application/sparql-results+json", class == "image", class == "audio", class == "video":
	default:
		fail(errInvalidContentType)
		return
	}
	s.logRemote(r, map[string]any{"doctype": doctype, "verb": def.verb, "url": def.url.String(),
		"response_code": resp.StatusCode, "content_type": ctype, "variables": logged,
		"created_at": time.Now().UTC().Format(time.RFC3339Nano)})
	for k, vv := range resp.Header {
		switch k {
		case "Set-Cookie", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Credentials",
			"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
			"Content-Security-Policy", "Strict-Transport-Security", "X-Frame-Options":
			continue
		}
		for _, v := range vv {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// logRemote writes the log document (model/remote's Request; a failure to log is only logged
// by the stack, so it does not fail the request here either).
func (s *CozyStack) logRemote(r *http.Request, doc map[string]any) {
	db, err := vault.DBName(s.instance, remoteRequestsDoctype)
	if err != nil {
		return
	}
	c := &call{s: s, r: r, doctype: remoteRequestsDoctype, db: db}
	if c.ensureDB() != nil {
		return
	}
	_ = s.couchJSON(r.Context(), http.MethodPost, db, "", "", doc, nil)
}
