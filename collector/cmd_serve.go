package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/collector"
	"github.com/coachco2/coachco2/pkg/httpserve"
)

// serveFlags are the flags of "collector serve".
type serveFlags struct {
	addr, db, tokenFile string
	tlsCert, tlsKey     string
	rate                float64
	burst               int
	trustForwardedFor   bool
	retentionEvery      time.Duration
	shutdownGrace       time.Duration
	jsonLogs            bool
}

// newServeCmd returns "collector serve": the service a study's researchers run.
func newServeCmd() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive contributions, delete on withdrawal, answer aggregates over groups of at least k",
		Long: `Serve the collector researchers run for their studies (docs/collector-api.md): an HTTP API that
registers study descriptors, receives participants' contributions, deletes a pseudonym's data on
withdrawal, and answers only aggregates over groups of at least k participants, as JSON or CSV.

--db is a SQLite file (created when missing) or a postgres:// URL. The admin token, needed to
register studies and read aggregates, is read from --admin-token-file or $COACHCO2_COLLECTOR_TOKEN
(at least 16 characters). Contributions older than a study's retention are purged at start and
then every --retention-every. SIGINT or SIGTERM stops the server gracefully.

Descriptors must name an https collector_url: serve TLS with --tls-cert and --tls-key, or put the
collector behind a reverse proxy (then --trust-forwarded-for rate-limits by the client's address).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := cmdenv.Fill(cmd, map[string]string{"addr": "COACHCO2_COLLECTOR_ADDR", "db": "COACHCO2_COLLECTOR_DB",
				"admin-token-file": "COACHCO2_COLLECTOR_TOKEN_FILE"})
			if err != nil {
				return cmdenv.Usage(err)
			}
			if err := f.check(); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", f.addr, err)
			}
			return serve(cmd.Context(), ln, f, cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8099", "address to listen on [$COACHCO2_COLLECTOR_ADDR]")
	fl.StringVar(&f.db, "db", "", "database: a SQLite file path, or postgres://user:password@host/db with the password percent-encoded [$COACHCO2_COLLECTOR_DB]")
	fl.StringVar(&f.tokenFile, "admin-token-file", "", "file holding the admin token (else $COACHCO2_COLLECTOR_TOKEN) [$COACHCO2_COLLECTOR_TOKEN_FILE]")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM), with --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	fl.Float64Var(&f.rate, "rate", collector.DefaultRate, "requests per second each client address may make on average (negative: no limit)")
	fl.IntVar(&f.burst, "burst", collector.DefaultBurst, "requests each client address may make at once")
	fl.BoolVar(&f.trustForwardedFor, "trust-forwarded-for", false, "take the client address from X-Forwarded-For (only behind a reverse proxy that sets it)")
	fl.DurationVar(&f.retentionEvery, "retention-every", 24*time.Hour, "how often contributions past their study's retention are purged")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 15*time.Second, "how long requests in flight may take to finish on SIGINT or SIGTERM")
	fl.BoolVar(&f.jsonLogs, "json-logs", false, "write logs as JSON lines instead of text")
	return cmd
}

// check says, as bad usage, what the flags lack or get wrong.
func (f *serveFlags) check() error {
	switch {
	case f.db == "":
		return cmdenv.Usagef("no database: give --db FILE_OR_DSN or set COACHCO2_COLLECTOR_DB")
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return cmdenv.Usagef("--tls-cert and --tls-key go together")
	case f.retentionEvery < time.Minute:
		return cmdenv.Usagef("--retention-every must be at least 1m")
	}
	return nil
}

// serve runs the collector on ln, which it closes, until ctx ends; it logs to stderr.
func serve(ctx context.Context, ln net.Listener, f *serveFlags, stderr io.Writer) error {
	defer ln.Close()
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var handler slog.Handler = slog.NewTextHandler(stderr, opts)
	if f.jsonLogs {
		handler = slog.NewJSONHandler(stderr, opts)
	}
	logger := slog.New(handler)
	token, err := f.adminToken(logger)
	if err != nil {
		return err
	}

	store, err := collector.Open(ctx, f.db)
	if err != nil {
		return err
	}
	defer store.Close()
	api, err := collector.NewServer(store, collector.Options{AdminToken: token, Rate: f.rate, Burst: f.burst,
		TrustForwardedFor: f.trustForwardedFor, Logger: logger})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	retentionCtx, stopRetention := context.WithCancel(ctx)
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		collector.RunRetention(retentionCtx, store, f.retentionEvery, nil, logger)
	}()
	defer func() {
		stopRetention()
		<-retentionDone
	}()

	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	logger.Info("collector listening", "url", scheme+"://"+ln.Addr().String(), "db", store.Location(), "backend", store.Backend(),
		"schema_version", collector.SchemaVersion(), "rate", f.rate, "burst", f.burst)
	return httpserve.Serve(ctx, srv, ln, httpserve.Options{Grace: f.shutdownGrace, CertFile: f.tlsCert, KeyFile: f.tlsKey, Logger: logger})
}

// adminToken reads the token from --admin-token-file, else from $COACHCO2_COLLECTOR_TOKEN.
func (f *serveFlags) adminToken(logger *slog.Logger) (string, error) {
	token, err := cmdenv.Secret(f.tokenFile, "COACHCO2_COLLECTOR_TOKEN", func() {
		logger.Warn("the admin token file is readable by other users: chmod 600 it", "file", f.tokenFile)
	})
	if err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	if token == "" {
		return "", cmdenv.Usagef("no admin token: give --admin-token-file FILE or set COACHCO2_COLLECTOR_TOKEN")
	}
	if len(token) < collector.MinAdminTokenLen {
		return "", cmdenv.Usage(fmt.Errorf("the admin token must have at least %d characters (try: openssl rand -hex 32)", collector.MinAdminTokenLen))
	}
	return token, nil
}
