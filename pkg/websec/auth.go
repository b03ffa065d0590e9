package websec

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coachco2/coachco2/pkg/i18n"
)

// Names the page's JavaScript and forms use to send the CSRF token back.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// Defaults of [AuthOptions].
const (
	DefaultCookieName    = "coachco2_session"
	DefaultSessionTTL    = 12 * time.Hour
	DefaultLoginPath     = "/login"
	DefaultLogoutPath    = "/logout"
	DefaultMaxAttempts   = 5
	DefaultAttemptWindow = time.Minute
	DefaultMaxBody       = 1 << 20
)

// maxSessions bounds the sessions kept; beyond it the oldest are dropped.
const maxSessions = 1000

// maxLoginBody bounds the body of a login form.
const maxLoginBody = 8 << 10

// AuthOptions configures [NewAuth]. Only Addr is required.
type AuthOptions struct {
	// Addr is the address the server listens on ("127.0.0.1:8080",
	// ":8080"...). Beyond loopback (see [ListensBeyondLoopback]), a
	// passphrase is required.
	Addr string
	// CookieName names the session cookie (DefaultCookieName).
	CookieName string
	// SessionTTL is how long a session lasts after login (DefaultSessionTTL).
	SessionTTL time.Duration
	// LoginPath and LogoutPath are the paths Auth serves itself
	// (DefaultLoginPath, DefaultLogoutPath).
	LoginPath, LogoutPath string
	// MaxAttempts login attempts are allowed per client in AttemptWindow
	// (DefaultMaxAttempts per DefaultAttemptWindow); more get 429.
	MaxAttempts   int
	AttemptWindow time.Duration
	// Iterations is the PBKDF2 iteration count used to hash a passphrase
	// given in clear (DefaultIterations; at least MinIterations).
	Iterations int
	// ClientIP returns the key of a client for the login rate limit
	// (default: the peer's IP address, IPv6 by /64).
	ClientIP func(*http.Request) string
	// TrustedOrigins are other origins whose mutating requests are accepted
	// ("https://coach.example.org" behind a proxy that rewrites Host).
	TrustedOrigins []string
	// Stylesheet is the path of a same-origin stylesheet for the login page.
	// GET and HEAD requests for it need no session: it is the same embedded
	// file for everyone, with no personal data, and the login page needs it
	// before there is a session. Every other path still needs one.
	Stylesheet string
	// MaxBody bounds the body of a mutating request (DefaultMaxBody): a
	// larger one gets 413 before anything reads it, the CSRF check included.
	MaxBody int64
	// Lang returns the language of the login page ("fr" or "en"); by default
	// the browser's (Accept-Language, matched by pkg/i18n).
	Lang func(*http.Request) string
	// Logger, if set, receives failed and refused logins (never the
	// passphrase, nor the client's address).
	Logger *slog.Logger
	// Now is the clock (time.Now); tests set it.
	Now func() time.Time
}

// Auth is the login, the sessions and the CSRF protection of the app. With
// a passphrase, every request needs a session opened by logging in. Without
// one (only on loopback), each browser gets a session without logging in,
// so that CSRF protection works the same; the server then answers only to
// Host names of this machine and refuses requests that came through a
// proxy. It is safe for concurrent use.
type Auth struct {
	required bool
	verify   *verifier
	opts     AuthOptions
	cop      *http.CrossOriginProtection
	limiter  *limiter
	page     *template.Template

	mu       sync.Mutex
	sessions map[[32]byte]*session // by SHA-256 of the cookie's token
}

// session is one logged-in browser.
type session struct {
	key     [32]byte
	csrf    string
	expires time.Time
}

type sessionKey struct{}

// ListensBeyondLoopback reports whether a server listening on addr is
// reachable from other machines: true unless its host is a loopback address
// or "localhost". An empty host (":8080") listens everywhere; an address that
// cannot be parsed counts as beyond loopback.
func ListensBeyondLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	return !isLoopbackHost(host)
}

// isLoopbackHost reports whether host (without port) names this machine's
// loopback: localhost, a subdomain of it, or a loopback address.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// NewAuth returns the login of a server listening on opts.Addr.
// passphraseOrHash is either a passphrase of at least [MinPassphraseLength]
// characters, or a hash from [HashPassphrase] (recognised by its
// "pbkdf2-sha256$" prefix). With one, login is required, on loopback too
// (a reverse proxy on the same machine makes a loopback server public).
// Without one, NewAuth refuses an address beyond loopback.
func NewAuth(passphraseOrHash string, opts AuthOptions) (*Auth, error) {
	if opts.CookieName == "" {
		opts.CookieName = DefaultCookieName
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.LoginPath == "" {
		opts.LoginPath = DefaultLoginPath
	}
	if opts.LogoutPath == "" {
		opts.LogoutPath = DefaultLogoutPath
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.AttemptWindow <= 0 {
		opts.AttemptWindow = DefaultAttemptWindow
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.ClientIP == nil {
		opts.ClientIP = remoteIP
	}
	if opts.Lang == nil {
		opts.Lang = acceptLanguage
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, p := range []string{opts.LoginPath, opts.LogoutPath, opts.Stylesheet} {
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?#")) {
			return nil, fmt.Errorf("websec: %q: want a path on this server", p)
		}
	}
	a := &Auth{
		opts:     opts,
		cop:      http.NewCrossOriginProtection(),
		limiter:  newLimiter(opts.MaxAttempts, opts.AttemptWindow),
		sessions: map[[32]byte]*session{},
	}
	for _, o := range opts.TrustedOrigins {
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("websec: trusted origin: %w", err)
		}
	}
	var err error
	if a.page, err = template.New("login").Parse(loginPage); err != nil {
		return nil, fmt.Errorf("websec: login page: %w", err)
	}
	switch {
	case passphraseOrHash == "" && ListensBeyondLoopback(opts.Addr):
		return nil, fmt.Errorf("websec: listening on %q, beyond loopback, requires a passphrase", opts.Addr)
	case passphraseOrHash == "":
		return a, nil
	case isHash(passphraseOrHash):
		a.verify, err = parseHash(passphraseOrHash)
	default:
		if n := utf8.RuneCountInString(passphraseOrHash); n < MinPassphraseLength {
			return nil, fmt.Errorf("websec: the passphrase has %d characters, at least %d are needed", n, MinPassphraseLength)
		}
		a.verify, err = newVerifier(passphraseOrHash, opts.Iterations)
	}
	if err != nil {
		return nil, err
	}
	a.required = true
	return a, nil
}

// Required reports whether a login is required.
func (a *Auth) Required() bool { return a.required }

// CSRFToken returns the CSRF token of the request's session, to put in the
// page (a <meta> tag or a form's csrf_token field), or "" outside
// [Auth.Middleware].
func CSRFToken(r *http.Request) string {
	if s, ok := r.Context().Value(sessionKey{}).(*session); ok {
		return s.csrf
	}
	return ""
}

// Middleware requires a session for every request but those for the login
// page's stylesheet, serves the login and logout paths, and checks CSRF on
// every mutating request (any method but GET, HEAD, OPTIONS and TRACE): the
// request must not come from another origin (Sec-Fetch-Site, Origin) and must
// carry the session's token in the X-CSRF-Token header or the csrf_token form
// field. Refusals: 401 (an API request without session; a page request is
// redirected to the login), 403 (CSRF, or a loopback server reached by
// another Host or through a proxy), 413 (a mutating request's body larger
// than MaxBody, checked before the CSRF token is looked for in it).
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.required {
			if reason := loopbackRefusal(r); reason != "" {
				a.deny(w, r, "(loopback)", http.StatusForbidden, reason)
				return
			}
		}
		switch r.URL.Path {
		case a.opts.LoginPath:
			a.serveLogin(w, r)
			return
		case a.opts.LogoutPath:
			a.serveLogout(w, r)
			return
		}
		if a.opts.Stylesheet != "" && r.URL.Path == a.opts.Stylesheet && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		s := a.sessionOf(r)
		if s == nil && a.required {
			a.refuse(w, r)
			return
		}
		if s == nil {
			if s = a.newSession(w); s == nil {
				a.deny(w, r, "(auth)", http.StatusInternalServerError, "cannot open a session")
				return
			}
		}
		if mutating(r.Method) {
			if !a.limitBody(w, r) {
				return
			}
			if err := a.checkCSRF(r, s); err != nil {
				status := http.StatusForbidden
				if errors.Is(err, errTooLarge) {
					status = http.StatusRequestEntityTooLarge
				}
				a.deny(w, r, "(csrf)", status, err.Error())
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// mutating reports whether method may change something.
func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// loopbackRefusal says why a server without login refuses r, or "".
func loopbackRefusal(r *http.Request) string {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return "this server has no passphrase, so it refuses requests through a proxy: set a passphrase"
		}
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !isLoopbackHost(host) {
		return "this server has no passphrase, so it answers only to localhost"
	}
	return ""
}

// deny answers a refusal: JSON for API clients, text otherwise.
func (a *Auth) deny(w http.ResponseWriter, r *http.Request, route string, status int, reason string) {
	setRoute(r, route)
	if a.opts.Logger != nil && status != http.StatusUnauthorized {
		a.opts.Logger.Warn("websec: request refused", "route", route, "status", status, "reason", reason)
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": strings.ToLower(http.StatusText(status)), "reason": reason})
		return
	}
	http.Error(w, http.StatusText(status)+": "+reason, status)
}

// wantsJSON reports whether the client is the app's JavaScript or another
// API client rather than a browser page.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// refuse answers a request without session: a redirect to the login page
// for a page, 401 otherwise.
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !wantsJSON(r) {
		setRoute(r, "(login redirect)")
		target := a.opts.LoginPath
		if next := r.URL.RequestURI(); next != "/" {
			target += "?next=" + url.QueryEscape(next)
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	a.deny(w, r, "(auth)", http.StatusUnauthorized, "log in first")
}

// errTooLarge matches the refusal of a request body larger than MaxBody.
var errTooLarge = errors.New("request body too large")

// limitBody refuses (413) a mutating request whose declared body is larger
// than MaxBody, and bounds the reading of a body of unknown length to it. It
// reports whether the request may go on.
func (a *Auth) limitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > a.opts.MaxBody {
		a.deny(w, r, "(size)", http.StatusRequestEntityTooLarge, a.tooLarge().Error())
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.opts.MaxBody)
	return true
}

func (a *Auth) tooLarge() error {
	return fmt.Errorf("%w: at most %d bytes", errTooLarge, a.opts.MaxBody)
}

// checkCSRF checks a mutating request of session s.
func (a *Auth) checkCSRF(r *http.Request, s *session) error {
	if err := a.cop.Check(r); err != nil {
		return fmt.Errorf("cross-origin request refused: %w", err)
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" && isForm(r) {
		if err := a.parseForm(r); err != nil {
			return err
		}
		token = r.PostForm.Get(CSRFField)
	}
	if token == "" {
		return errors.New("missing CSRF token (X-CSRF-Token header or csrf_token field)")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) != 1 {
		return errors.New("wrong CSRF token")
	}
	return nil
}

// parseForm reads the form in r's body, telling a body too large from a
// malformed one.
func (a *Auth) parseForm(r *http.Request) error {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(a.opts.MaxBody)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return a.tooLarge()
	case err != nil:
		return fmt.Errorf("malformed form: %w", err)
	}
	return nil
}

// isForm reports whether the body of r is an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// randomToken returns 32 random bytes in base64url.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("websec: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionOf returns the valid session of r's cookie, or nil.
func (a *Auth) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(a.opts.CookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	key := sha256.Sum256([]byte(c.Value))
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[key]
	if s != nil && !a.opts.Now().Before(s.expires) {
		delete(a.sessions, key)
		return nil
	}
	return s
}

// newSession opens a session and sets its cookie on w; nil if the system's
// randomness failed.
func (a *Auth) newSession(w http.ResponseWriter) *session {
	token, err := randomToken()
	if err != nil {
		return nil
	}
	csrf, err := randomToken()
	if err != nil {
		return nil
	}
	now := a.opts.Now()
	s := &session{key: sha256.Sum256([]byte(token)), csrf: csrf, expires: now.Add(a.opts.SessionTTL)}
	a.mu.Lock()
	if len(a.sessions) >= maxSessions {
		var oldest *session
		for k, o := range a.sessions {
			if !now.Before(o.expires) {
				delete(a.sessions, k)
			} else if oldest == nil || o.expires.Before(oldest.expires) {
				oldest = o
			}
		}
		if len(a.sessions) >= maxSessions && oldest != nil {
			delete(a.sessions, oldest.key)
		}
	}
	a.sessions[s.key] = s
	a.mu.Unlock()
	http.SetCookie(w, a.cookie(token, int(a.opts.SessionTTL/time.Second)))
	return s
}

// cookie returns the session cookie; maxAge < 0 deletes it.
func (a *Auth) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: a.opts.CookieName, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

// endSession forgets s.
func (a *Auth) endSession(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, s.key)
}

// serveLogin serves the login page and checks the passphrase.
func (a *Auth) serveLogin(w http.ResponseWriter, r *http.Request) {
	setRoute(r, r.Method+" "+a.opts.LoginPath)
	if !a.required {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a.renderLogin(w, r, http.StatusOK, "", safeNext(r.URL.Query().Get("next"), a.opts.LoginPath))
	case http.MethodPost:
		a.login(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		a.deny(w, r, r.Method+" "+a.opts.LoginPath, http.StatusMethodNotAllowed, "use GET or POST")
	}
}

// login checks a posted passphrase and opens a session.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if err := a.cop.Check(r); err != nil {
		a.deny(w, r, "POST "+a.opts.LoginPath, http.StatusForbidden, "cross-origin login refused")
		return
	}
	client := a.opts.ClientIP(r)
	if ok, retry := a.limiter.allow(client, a.opts.Now()); !ok {
		secs := int((retry + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		if a.opts.Logger != nil {
			a.opts.Logger.Warn("websec: login attempts rate-limited")
		}
		a.renderLogin(w, r, http.StatusTooManyRequests, "tooMany", "/")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		status, key := http.StatusBadRequest, "badForm"
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status, key = http.StatusRequestEntityTooLarge, "tooLarge"
		}
		a.renderLogin(w, r, status, key, "/")
		return
	}
	next := safeNext(r.PostForm.Get("next"), a.opts.LoginPath)
	if !a.verify.check(r.PostForm.Get("passphrase")) {
		if a.opts.Logger != nil {
			a.opts.Logger.Warn("websec: login failed: wrong passphrase")
		}
		a.renderLogin(w, r, http.StatusUnauthorized, "wrong", next)
		return
	}
	a.limiter.reset(client)
	if old := a.sessionOf(r); old != nil {
		a.endSession(old) // a new token at each login
	}
	if a.newSession(w) == nil {
		a.deny(w, r, "POST "+a.opts.LoginPath, http.StatusInternalServerError, "cannot open a session")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// serveLogout ends the session (POST only, with the CSRF token).
func (a *Auth) serveLogout(w http.ResponseWriter, r *http.Request) {
	setRoute(r, r.Method+" "+a.opts.LogoutPath)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		a.deny(w, r, r.Method+" "+a.opts.LogoutPath, http.StatusMethodNotAllowed, "use POST")
		return
	}
	target := a.opts.LoginPath
	if !a.required {
		target = "/"
	}
	if s := a.sessionOf(r); s != nil {
		if err := a.checkCSRF(r, s); err != nil {
			a.deny(w, r, "POST "+a.opts.LogoutPath, http.StatusForbidden, err.Error())
			return
		}
		a.endSession(s)
	}
	http.SetCookie(w, a.cookie("", -1))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns next if it is a path on this server (not the login page
// itself), "/" otherwise: the login never redirects elsewhere.
func safeNext(next, loginPath string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || u.Scheme != "" || u.Host != "" || u.Path == loginPath ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// acceptLanguage returns the browser's language among those of pkg/i18n.
func acceptLanguage(r *http.Request) string {
	return i18n.Negotiate(r.Header.Get("Accept-Language"))
}

// renderLogin writes the login page with status and, unless errKey is "", the error
// "login."+errKey of the catalog.
func (a *Auth) renderLogin(w http.ResponseWriter, r *http.Request, status int, errKey, next string) {
	p := i18n.For(a.opts.Lang(r))
	data := map[string]any{
		"Lang": p.Lang(), "T": p.T, "Next": next,
		"Action": a.opts.LoginPath, "Stylesheet": a.opts.Stylesheet,
	}
	if errKey != "" {
		data["Error"] = p.T("login." + errKey)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = a.page.Execute(w, data)
	}
}

// loginPage is the login form: no script, no inline style (the CSP forbids
// both).
const loginPage = `<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{call .T "login.title"}}</title>
{{- if .Stylesheet}}
<link rel="stylesheet" href="{{.Stylesheet}}">
{{- end}}
</head>
<body>
<main class="login">
<h1>{{call .T "app.title"}}</h1>
{{- if .Error}}
<p class="error" role="alert" id="login-error">{{.Error}}</p>
{{- end}}
<form method="post" action="{{.Action}}">
<label for="passphrase">{{call .T "login.label"}}</label>
<input id="passphrase" name="passphrase" type="password" autocomplete="current-password" required autofocus{{if .Error}} aria-describedby="login-error" aria-invalid="true"{{end}}>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">{{call .T "login.submit"}}</button>
</form>
</main>
</body>
</html>
`
