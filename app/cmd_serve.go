package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/webapp"
)

func newServeCmd() *cobra.Command {
	var f vaultFlags
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web app over the vault (on 127.0.0.1:8080 by default)",
		Long: `Serve the web app: the dashboard, the trips, their corrections, the analysis, the settings
and the exports, computed in the vault. It listens on the loopback interface by default; put a
reverse proxy with TLS in front of it to reach it from elsewhere (README, "Installing it").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.fill(cmd); err != nil {
				return err
			}
			if err := cmdenv.Fill(cmd, map[string]string{"addr": "COACHCO2_ADDR"}); err != nil {
				return err
			}
			return serve(cmd.Context(), f, addr, cmd.OutOrStdout())
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on [$COACHCO2_ADDR]")
	return cmd
}

func serve(ctx context.Context, f vaultFlags, addr string, out interface{ Write([]byte) (int, error) }) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ws, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer ws.Close()
	app, err := webapp.New(ws.Coach, webapp.Options{Locale: os.Getenv("COZY_LOCALE"), Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // exports stream
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(out, "Coach CO2 is at http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop the server: %w", err)
	}
	return nil
}
