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

	"github.com/coachco2/coachco2/pkg/basemap"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/connections"
	"github.com/coachco2/coachco2/pkg/httpserve"
	"github.com/coachco2/coachco2/pkg/i18n"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
	"github.com/coachco2/coachco2/pkg/websec"
)

// manifest is a copy of the repository's manifest.webapp (a test keeps them identical): the
// permission layer every vault access of `app serve` goes through is built from it.
//
//go:embed manifest.webapp
var manifest []byte

// konnectorManifest is a copy of connector/manifest.konnector (a test keeps them identical): the
// syncs `app serve` runs go through its permissions, the connector's, not the app's.
//
//go:embed manifest.konnector
var konnectorManifest []byte

// version is the app's version, written in the metadata of the trips its syncs save.
const version = "0.1.0"

// trackingServers is the network guard's group of the accounts' tracking servers.
const trackingServers = "tracking-servers"

func newServeCmd() *cobra.Command {
	var f cmdenv.Vault
	var addr, passphraseFile string
	var syncEvery time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web app over the vault (on 127.0.0.1:8080 by default)",
		Long: `Serve the web app: the dashboard, the trips, their corrections, the analysis, the settings,
the exports, and the connections to tracking servers, whose trips it syncs every hour (with
jitter) and on "Sync now", as the connector does and with its permissions. It listens on the loopback interface by default; put a
reverse proxy with TLS in front of it to reach it from elsewhere (README, "Installing it").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.Fill(cmd, map[string]string{"addr": "COACHCO2_ADDR", "sync-every": "COACHCO2_SYNC_EVERY"}); err != nil {
				return err
			}
			if syncEvery < 0 || syncEvery > 0 && syncEvery < time.Minute {
				return cmdenv.Usagef("%s", envLang().T("cli.err.syncEvery"))
			}
			passphrase, err := cmdenv.Secret(passphraseFile, "COACHCO2_PASSPHRASE", nil)
			if err != nil {
				return fmt.Errorf("--passphrase-file: %w", err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s: %w", envLang().T("cli.err.listen", addr), err)
			}
			return serve(cmd.Context(), ln, &f, serveOptions{passphrase: passphrase, syncEvery: syncEvery}, cmd.OutOrStdout())
		},
	}
	f.Register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on [$COACHCO2_ADDR]")
	cmd.Flags().DurationVar(&syncEvery, "sync-every", connections.DefaultInterval, "sync every account at this interval, with jitter; 0: only on Sync now [$COACHCO2_SYNC_EVERY]")
	cmd.Flags().StringVar(&passphraseFile, "passphrase-file", "", "file holding the passphrase (or its PBKDF2 hash) to log in; required beyond loopback [$COACHCO2_PASSPHRASE holds it directly]")
	return cmd
}

// serveOptions are serve's settings besides the vault.
type serveOptions struct {
	// passphrase to log in ("" on loopback: none).
	passphrase string
	// syncEvery is the interval of the accounts' syncs (0: only on "Sync now").
	syncEvery time.Duration
}

// serve serves the app on ln, which it closes, until ctx ends; it prints the app's URL to out.
func serve(ctx context.Context, ln net.Listener, f *cmdenv.Vault, o serveOptions, out io.Writer) error {
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
	auth, err := websec.NewAuth(o.passphrase, websec.AuthOptions{Addr: ln.Addr().String(), Stylesheet: "/static/app.css", Logger: logger})
	if err != nil {
		return err
	}
	ws, err := openWorkspace(ctx, f, false, vault.WithPolicy(m.Policy()), vault.WithTransport(guard.Transport()))
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
	app, err := webapp.New(ws.Coach, webapp.Options{Locale: os.Getenv("COZY_LOCALE"), Logger: logger, CSRFToken: websec.CSRFToken, OpenBaseMap: openBaseMap})
	if err != nil {
		return err
	}
	defer func() {
		if err := app.Close(); err != nil {
			logger.Warn("close the web app", "error", err)
		}
	}()
	app.EnableStudies(svc, sharer.ConsentsChanged)
	conns, err := openConnections(ctx, f, ws, guard, logger)
	if err != nil {
		return err
	}
	syncCtx, stopSyncs := context.WithCancel(ctx)
	app.EnableConnections(syncCtx, conns)
	syncsDone := make(chan struct{})
	go func() {
		defer close(syncsDone)
		if o.syncEvery > 0 {
			conns.Run(syncCtx, o.syncEvery)
		}
	}()
	// Once the server stopped: the syncs stop, and are recorded, before the vault closes.
	defer func() {
		stopSyncs()
		<-syncsDone
		conns.Wait()
	}()
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
	fmt.Fprintln(out, i18n.For(cliLang(ws)).T("cli.serve.at", ln.Addr().String()))
	err = httpserve.Serve(ctx, srv, ln, httpserve.Options{})
	// A recompute a settings change started stops with ctx at its next safe point: wait for it
	// before the vault closes, so that its last figures are saved and the next start resumes it.
	waitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, werr := ws.WaitRecompute(waitCtx); werr != nil {
		logger.Warn("the recompute of the figures did not stop in time; the next start resumes it", "error", werr)
	}
	return err
}

// openConnections opens the Connections service over the vault of f: its account management and
// its syncs on handles of their own, with the connector's manifest's permissions (see
// pkg/connections), reaching only the accounts' tracking servers through the guard; a sync that
// saved trips brings the coach's figures up to date.
func openConnections(ctx context.Context, f *cmdenv.Vault, ws *workspace, guard *netguard.Guard, logger *slog.Logger) (*connections.Service, error) {
	m, err := sandbox.ParseKonnectorManifest(konnectorManifest)
	if err != nil {
		return nil, err
	}
	open := func(p vault.Policy) (*vault.Vault, error) {
		return vault.Open(ctx, f.DSN, f.Instance, vault.WithPolicy(p), vault.WithTransport(guard.Transport()))
	}
	manage, err := open(connections.ManagePolicy(m.Policy()))
	if err != nil {
		return nil, err
	}
	syncs, err := open(m.Policy())
	if err != nil {
		manage.Close()
		return nil, err
	}
	ws.closers = append(ws.closers, manage, syncs)
	box, err := openTokenKey(ctx, manage, f.DSN)
	if err != nil {
		return nil, err
	}
	// A redirect is reported (the server's URL is probably wrong), as with the openpath client's
	// own transport, never followed.
	client := &http.Client{Transport: guard.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return connections.New(ctx, manage, syncs, box, connections.Options{
		AppVersion: version, Logger: logger, Client: client,
		AllowServers: func(urls []string) error { return guard.SetAllowed(trackingServers, urls) },
		AfterSync: func(ctx context.Context, _ tripsync.Summary) {
			if _, err := ws.Refresh(ctx); err != nil {
				logger.Error("bring the figures up to date after a sync", "error", err)
			}
		},
	})
}

// openBaseMap opens an offline base map file for the web app.
func openBaseMap(ctx context.Context, path string) (webapp.BaseMap, error) {
	m, err := basemap.Open(ctx, path)
	if err != nil {
		return nil, err // not a nil *MBTiles in a non-nil BaseMap
	}
	return m, nil
}
