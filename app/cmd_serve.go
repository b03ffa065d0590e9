package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/httpserve"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
	"github.com/coachco2/coachco2/pkg/websec"
)

// manifest is a copy of the repository's manifest.webapp (a test keeps them identical): the
// permission layer every vault access of `app serve` goes through is built from it.
//
//go:embed manifest.webapp
var manifest []byte

func newServeCmd() *cobra.Command {
	var f cmdenv.Vault
	var addr, passphraseFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web app over the vault (on 127.0.0.1:8080 by default)",
		Long: `Serve the web app: the dashboard, the trips, their corrections, the analysis, the settings
and the exports, computed in the vault. It listens on the loopback interface by default; put a
reverse proxy with TLS in front of it to reach it from elsewhere (README, "Installing it").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Fill(cmd, map[string]string{"addr": "COACHCO2_ADDR"}); err != nil {
				return err
			}
			passphrase, err := cmdenv.Secret(passphraseFile, "COACHCO2_PASSPHRASE", nil)
			if err != nil {
				return fmt.Errorf("--passphrase-file: %w", err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			return serve(cmd.Context(), ln, &f, passphrase, cmd.OutOrStdout())
		},
	}
	f.Register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on [$COACHCO2_ADDR]")
	cmd.Flags().StringVar(&passphraseFile, "passphrase-file", "", "file holding the passphrase (or its PBKDF2 hash) to log in; required beyond loopback [$COACHCO2_PASSPHRASE holds it directly]")
	return cmd
}

// serve serves the app on ln, which it closes, until ctx ends; it prints the app's URL to out.
func serve(ctx context.Context, ln net.Listener, f *cmdenv.Vault, passphrase string, out io.Writer) error {
	defer ln.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// The app opens no connection but to the vault's server and to the research collectors the
	// person consented to.
	guard := netguard.New()
	restore := guard.Install()
	defer restore()
	if strings.HasPrefix(f.DSN, "http://") || strings.HasPrefix(f.DSN, "https://") {
		if err := guard.AllowURL(f.DSN); err != nil {
			return err
		}
	}
	m, err := sandbox.ParseManifest(manifest)
	if err != nil {
		return err
	}
	auth, err := websec.NewAuth(passphrase, websec.AuthOptions{Addr: ln.Addr().String(), Stylesheet: "/static/app.css", Logger: logger})
	if err != nil {
		return err
	}
	ws, err := openWorkspace(ctx, f, vault.WithPolicy(m.Policy()), vault.WithTransport(guard.Transport()))
	if err != nil {
		return err
	}
	defer ws.Close()
	svc, err := newSharing(ctx, ws, guard)
	if err != nil {
		return err
	}
	sharer := sharing.NewScheduler(svc, guard, sharing.SchedulerOptions{Logger: logger})
	stopSharing, err := sharer.Start(ctx)
	if err != nil {
		return err
	}
	defer stopSharing()
	app, err := webapp.New(ws.Coach, webapp.Options{Locale: os.Getenv("COZY_LOCALE"), Logger: logger, CSRFToken: websec.CSRFToken})
	if err != nil {
		return err
	}
	app.EnableStudies(svc, sharer.ConsentsChanged)
	handler := websec.Protect(app.Handler(), websec.Config{Auth: auth, Logger: logger,
		Headers: websec.HeaderOptions{ImgOrigin: func() string { return ws.Settings().TileServer }}})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // exports stream
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(out, "Coach CO2 is at http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	return httpserve.Serve(ctx, srv, ln, httpserve.Options{})
}
