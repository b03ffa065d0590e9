package websec

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// record is what the access log learns about a request while it is served.
type record struct {
	route string
}

type recordKey struct{}

// setRoute tells the access log the route that served r, if it is logged.
func setRoute(r *http.Request, route string) {
	if rec, ok := r.Context().Value(recordKey{}).(*record); ok && route != "" {
		rec.route = route
	}
}

// Routed wraps the app's ServeMux so that [AccessLog] logs the pattern of
// the route that served each request ("GET /api/trips/{id}"), even when
// middleware between them passed a copy of the request on. Put it right
// around the mux.
func Routed(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The ServeMux sets r.Pattern on this very request; deferred, so that
		// a panicking handler's route is known too.
		defer func() { setRoute(r, r.Pattern) }()
		mux.ServeHTTP(w, r)
	})
}

// logMethod returns the method to log: a standard one as it is, any other
// as OTHER.
func logMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// AccessLog logs one line per request at level Info: method, route pattern
// (never the path, which holds ids, nor the query), status, bytes written
// and duration in milliseconds. It logs nothing about the client: no
// address, no cookie, no header. The route is "unmatched" when no route
// served the request (see [Routed]).
//
// It also recovers a handler's panic: it logs it (the panic's type, not its
// message, which could hold personal data) and answers 500 when nothing was
// written yet.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &record{}
			r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				p := recover()
				if p != nil && p == http.ErrAbortHandler {
					panic(p)
				}
				if rec.route == "" {
					rec.route = r.Pattern
				}
				route := rec.route
				if route == "" {
					route = "unmatched"
				}
				method := logMethod(r.Method)
				if p != nil {
					logger.Error("http handler panic", "method", method, "route", route, "panic", fmt.Sprintf("%T", p))
					if !sw.wrote {
						http.Error(sw, "internal server error", http.StatusInternalServerError)
					}
				}
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				logger.Info("http", "method", method, "route", route, "status", status, "bytes", sw.bytes,
					"duration_ms", float64(time.Since(start).Microseconds())/1000)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush flushes the underlying writer, for handlers that stream.
func (s *statusWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// Hijack hands the connection over, for handlers that upgrade it.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("websec: hijack: %w", err)
	}
	return c, rw, nil
}

// Config assembles the middleware of [Protect].
type Config struct {
	Headers HeaderOptions
	// Auth is the login and CSRF protection. nil leaves it out: for tests only.
	Auth *Auth
	// Logger receives the access log. nil leaves the log out.
	Logger *slog.Logger
}

// Protect wraps the app's ServeMux with the package's middleware, from the
// outside in: [Headers] (so every response has them, the login's and the
// refusals' included), [AccessLog], [Auth.Middleware], and [Routed].
func Protect(mux http.Handler, cfg Config) http.Handler {
	h := Routed(mux)
	if cfg.Auth != nil {
		h = cfg.Auth.Middleware(h)
	}
	if cfg.Logger != nil {
		h = AccessLog(cfg.Logger)(h)
	}
	return Headers(cfg.Headers)(h)
}
