// Package websec is the HTTP security of "app serve": security headers on
// every response, a passphrase login with sessions and CSRF protection when
// the server is reachable beyond loopback, and an access log without personal
// data.
//
// Assemble it around the app's ServeMux with [Protect]:
//
//	auth, err := websec.NewAuth(passphrase, websec.AuthOptions{Addr: addr})
//	handler := websec.Protect(mux, websec.Config{Auth: auth, Logger: logger})
//
// which is, from the outside in: [Headers], [AccessLog], [Auth.Middleware],
// and [Routed] right around the mux, so that the log names the route pattern.
// Templates get the session's CSRF token with [CSRFToken]; the page's
// JavaScript sends it back in the X-CSRF-Token header of every POST, PUT,
// PATCH and DELETE (forms in a field named csrf_token).
package websec

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// cspAfterImg is the Content-Security-Policy after its img-src directive.
const cspAfterImg = "; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// CSP returns the Content-Security-Policy of the app: only its own origin,
// images also from data: URLs and, when imgOrigin is not "", from that
// origin (a user-configured map tile server; check it with [ValidateOrigin]
// first).
func CSP(imgOrigin string) string {
	img := "img-src 'self' data:"
	if imgOrigin != "" {
		img += " " + imgOrigin
	}
	return "default-src 'self'; " + img + cspAfterImg
}

// ValidateOrigin checks an origin typed by the user (a tile server) and
// returns its canonical form "scheme://host[:port]". It refuses anything
// that is not a plain http(s) origin: a path, a query, credentials,
// wildcards, or characters that would change the CSP.
func ValidateOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return "", fmt.Errorf("websec: origin %q: %w", s, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("websec: origin %q: want https://host[:port]", s)
	case u.User != nil, u.RawQuery != "", u.Fragment != "", u.Opaque != "", u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("websec: origin %q: only scheme, host and port (no path, query or credentials)", s)
	case u.Hostname() == "":
		return "", fmt.Errorf("websec: origin %q: no host", s)
	}
	for _, r := range u.Host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return "", fmt.Errorf("websec: origin %q: character %q not allowed in the host", s, r)
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// HeaderOptions configures [Headers].
type HeaderOptions struct {
	// ImgOrigin, when set, returns an origin from which images may also be
	// loaded (a user-configured tile server), or "" for none. It is called
	// for every response, so the CSP follows the setting at once; an invalid
	// origin is left out of the CSP.
	ImgOrigin func() string
}

// Headers sets the security headers on every response, errors included:
// the strict Content-Security-Policy of [CSP], X-Content-Type-Options,
// Referrer-Policy, X-Frame-Options, Cross-Origin-Opener-Policy,
// Cross-Origin-Resource-Policy and Permissions-Policy. They are set before
// the next handler runs, which may still change them.
func Headers(opts HeaderOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := ""
			if opts.ImgOrigin != nil {
				if o, err := ValidateOrigin(opts.ImgOrigin()); err == nil {
					origin = o
				}
			}
			h := w.Header()
			h.Set("Content-Security-Policy", CSP(origin))
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
			next.ServeHTTP(w, r)
		})
	}
}
