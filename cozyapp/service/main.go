// Command service is Coach CO2's service in a Cozy: the stack runs the app's service
// (manifest "services", type node) with COZY_URL and COZY_CREDENTIALS (a token with the app's
// permissions, docs/apps.md); its Node.js entry point (cozyapp/services/coach.js) starts this
// static binary with that environment. It runs the engine once and exits: 0 when the screens
// are written, 1 otherwise (the reason on stderr, never the token).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coachco2/coachco2/cozyapp/engine"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	url, token := os.Getenv("COZY_URL"), os.Getenv("COZY_CREDENTIALS")
	if url == "" || token == "" {
		log.Error("COZY_URL and COZY_CREDENTIALS must be set, as the Cozy stack sets them for a service")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := engine.Run(ctx, url, token, engine.Options{Locale: os.Getenv("COZY_LOCALE")}); err != nil {
		log.Error("the coach's figures were not updated", "err", err)
		os.Exit(1)
	}
}
