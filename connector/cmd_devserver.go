package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/httpserve"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// newDevserverCmd is `connector devserver`: an e-mission-compatible server for tests and demos.
func newDevserverCmd() *cobra.Command {
	var (
		dataDirs  []string
		tokens    []string
		addr      string
		generate  string
		composite bool
		faults    devserver.Faults
		seed      int64
		verbose   bool
	)
	cmd := &cobra.Command{
		Use:   "devserver (--data DIR [--data DIR ...] | --generate users=N,days=D,seed=S) [--addr HOST:PORT]",
		Short: "Serve trips like an OpenPATH / e-mission server, for tests, demos and benchmarks",
		Long: `Serve trips like an OpenPATH / e-mission server (getTrips by local day, find_entries with
inclusive bounds, get_range_ts, get_complete_ts), for tests, demos and benchmarks.

Each --data directory is one user laid out like ../shared/openpath-samples (timeline/, labels/,
composite/); its token is the directory's base name unless the matching --token (in the same
order) says otherwise. --generate serves synthetic users around La Rochelle instead or as well,
with tokens user001, user002, ... An unknown token gets 403.

Faults for tests: --fail-rate answers 500 to that fraction of requests, --truncate-rate cuts that
fraction of answers mid-JSON, --latency delays every answer; --seed makes them reproducible.`,
		Example: `  connector devserver --data ../shared/openpath-samples --addr 127.0.0.1:8090
  connector devserver --generate users=3,days=90,seed=7 --fail-rate 0.2 --latency 50ms`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(dataDirs) == 0 && generate == "" {
				return errors.New("devserver: nothing to serve: give --data DIR or --generate users=N,days=D,seed=S")
			}
			if len(tokens) > len(dataDirs) {
				return fmt.Errorf("devserver: %d --token for %d --data: give at most one token per data directory, in the same order", len(tokens), len(dataDirs))
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			srv, err := devserver.New(devserver.Options{Faults: faults, Seed: seed, Logger: log, TimelineOnly: !composite})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			seen := map[string]bool{}
			for i, dir := range dataDirs {
				data, err := devserver.LoadDir(dir)
				if err != nil {
					return err
				}
				if !composite {
					data.Composite = nil
				}
				token, shown := filepath.Base(filepath.Clean(dir)), ""
				if i < len(tokens) {
					token, shown = tokens[i], " (token from --token)"
				} else {
					shown = fmt.Sprintf(" (token %q)", token)
				}
				if seen[token] {
					return fmt.Errorf("devserver: two data directories share the token of %s: give --token for each", dir)
				}
				seen[token] = true
				if err := srv.SetUser(token, data); err != nil {
					return err
				}
				sum, _ := srv.User(token)
				fmt.Fprintf(out, "serving %s as %s%s: %d trips from %v to %v, %d labels, %d other entries\n",
					dir, sum.Name, shown, sum.Trips, sum.First, sum.Last, sum.Labels, sum.Entries)
			}
			if generate != "" {
				cfg, err := tripgen.ParseSpec(generate)
				if err != nil {
					return err
				}
				gen, err := tripgen.New(cfg)
				if err != nil {
					return err
				}
				start := time.Now()
				gtokens := srv.AddGenerated(gen)
				trips := 0
				for _, t := range gtokens {
					if seen[t] {
						return fmt.Errorf("devserver: token %s is both a data directory and a generated user", t)
					}
					sum, _ := srv.User(t)
					trips += sum.Trips
				}
				cfg = gen.Config()
				who := "token " + gtokens[0]
				if len(gtokens) > 1 {
					who = fmt.Sprintf("tokens %s to %s", gtokens[0], gtokens[len(gtokens)-1])
				}
				fmt.Fprintf(out, "serving %d generated user(s) (%s): %d days from %v, seed %d, %d trips (indexed in %v)\n",
					cfg.Users, who, cfg.Days, cfg.Start, cfg.Seed, trips, time.Since(start).Round(time.Millisecond))
			}
			return serveDev(cmd.Context(), cmd, srv, addr)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&dataDirs, "data", nil, "a user's data directory (timeline/, labels/, composite/); repeat for more users")
	f.StringArrayVar(&tokens, "token", nil, "token of the user of the --data at the same position (default: the directory's base name)")
	f.StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on (port 0 picks a free port)")
	f.StringVar(&generate, "generate", "", "serve synthetic users: users=N,days=D,seed=S[,start=YYYY-MM-DD]")
	f.BoolVar(&composite, "composite", true, "serve composite trips: the composite/ entries of --data directories, and generated users' trips as analysis/composite_trip entries (false: an old server, timeline trips only)")
	f.Float64Var(&faults.FailRate, "fail-rate", 0, "fraction of requests answered 500 (0 to 1)")
	f.Float64Var(&faults.TruncateRate, "truncate-rate", 0, "fraction of answers cut mid-JSON (0 to 1)")
	f.DurationVar(&faults.Latency, "latency", 0, "delay added before each answer, e.g. 50ms")
	f.Int64Var(&seed, "seed", 1, "seed of the fault injection")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every request (never the token)")
	return cmd
}

// serveDev listens on addr and serves srv until ctx is cancelled (SIGINT, SIGTERM).
func serveDev(ctx context.Context, cmd *cobra.Command, srv http.Handler, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devserver: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "devserver listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	err = httpserve.Serve(ctx, &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}, ln, httpserve.Options{Grace: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("devserver: %w", err)
	}
	return nil
}
