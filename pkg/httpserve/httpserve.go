// Package httpserve runs an HTTP server on a listener until its context ends, then stops it
// gracefully: the one start-and-stop sequence of the project's servers (the web app, the
// research collector, the development e-mission server).
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DefaultGrace is how long requests in flight may take to finish when [Options.Grace] is 0.
const DefaultGrace = 10 * time.Second

// Options configure [Serve].
type Options struct {
	// Grace is how long the requests in flight may take to finish once the context ends
	// (DefaultGrace when 0); the connections still open then are closed.
	Grace time.Duration
	// CertFile and KeyFile, both set, serve HTTPS with that certificate (PEM files).
	CertFile, KeyFile string
	// Logger, when set, says when the server stops and when it has stopped.
	Logger *slog.Logger
}

// Serve serves srv on ln until ctx ends, then shuts it down: it stops accepting connections and
// waits up to opts.Grace for the requests in flight. It returns nil after a clean stop, and an
// error when serving failed or the grace ran out. ln is closed when Serve returns.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, opts Options) error {
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		ln.Close()
		return errors.New("serve: a TLS certificate and its key go together")
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	served := make(chan error, 1)
	go func() {
		if opts.CertFile != "" {
			served <- srv.ServeTLS(ln, opts.CertFile, opts.KeyFile)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		ln.Close() // Serve leaves it open when it fails before accepting (a bad certificate)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if opts.Logger != nil {
		opts.Logger.Info("stopping: finishing the requests in flight", "grace", opts.Grace)
	}
	// The shutdown gets its own deadline: ctx is already done.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		<-served
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	if opts.Logger != nil {
		opts.Logger.Info("stopped")
	}
	return nil
}
