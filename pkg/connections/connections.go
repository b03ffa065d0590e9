// Package connections is the app's side of the connector: a person's accounts on tracking servers
// (OpenPATH / e-mission), each added only once its server accepted the token, listed with their
// sync state, and synced through the connector's own engine (pkg/tripsync) on a schedule and on
// demand ("Sync now"), as a Cozy stack runs a konnector.
//
// Two vault handles keep the permissions apart, as on a Cozy: account management (add, remove:
// what Cozy's Home does for the person) uses the handle given as manage, and the sync, the one
// given as sync, which `app serve` opens with the connector's manifest (the trips and accounts
// doctypes it declares), never with the app's.
package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/schedule"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Server is a public tracking server offered in the form.
type Server struct {
	Name, URL string
}

// KnownServers are the public servers the project's references name: the OpenPATH deployment of
// Cozy Cloud, also the connector manifest's default. Any other is typed in.
func KnownServers() []Server {
	return []Server{{Name: "OpenPATH (Cozy Cloud)", URL: "https://openpath.cozycloud.cc"}}
}

// DefaultInterval is how often `app serve` syncs each account, as the connector's manifest says
// (frequency "hourly"); a jitter of up to a tenth is added.
const DefaultInterval = time.Hour

// graceTimeout bounds the recording of a run that was stopped: one write of the account takes far
// less, and supervisors wait longer before they kill (10 s for systemd and Docker).
const graceTimeout = 5 * time.Second

// Options configure a [Service].
type Options struct {
	// AppVersion is written in the trips' metadata.
	AppVersion string
	// Logger receives the syncs' log lines (slog.Default when nil); tokens never reach it.
	Logger *slog.Logger
	// Client is the HTTP client of the requests to the tracking servers (nil: the openpath
	// client's own); `app serve` gives one through its network guard.
	Client *http.Client
	// AllowServers, when set, is given the URLs of every tracking server the service may reach
	// (the accounts', and the one being checked) before it reaches one: `app serve` keeps its
	// network guard to them.
	AllowServers func(urls []string) error
	// AfterSync, when set, is called after each sync that saved something (the app brings the
	// figures up to date).
	AfterSync func(ctx context.Context, sum tripsync.Summary)
	// Retry is the openpath client's retry policy (its default when zero).
	Retry openpath.RetryPolicy
}

// Service manages and syncs a person's accounts. It is safe for concurrent use.
type Service struct {
	manage *accounts.Store
	store  *accounts.Store // the sync's, under the connector's permissions
	engine *tripsync.Engine
	opts   Options

	// addMu makes Add and Remove take turns: each sets the servers allowed (with the one it checks).
	addMu sync.Mutex

	mu      sync.Mutex
	running map[string]*tripsync.Summary // account id → progress of its sync
	changed chan struct{}                // closed and replaced when a sync starts or ends
	wg      sync.WaitGroup               // the syncs started by SyncNow
}

// New returns the service over two handles of one vault: manage for adding and removing accounts,
// sync for the sync (see the package documentation). box seals the tokens (nil when the vault's
// server encrypts them itself).
func New(ctx context.Context, manage, sync *vault.Vault, box *seal.Box, opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{opts: opts, running: map[string]*tripsync.Summary{}, changed: make(chan struct{})}
	db, err := manage.DB(ctx, vault.DoctypeAccounts)
	if err == nil {
		s.manage, err = accounts.Open(ctx, db, box)
	}
	if err == nil {
		db, err = sync.DB(ctx, vault.DoctypeAccounts)
	}
	if err == nil {
		s.store, err = accounts.Open(ctx, db, box)
	}
	if err == nil {
		db, err = sync.DB(ctx, vault.DoctypeTrips)
	}
	if err == nil {
		// The app reads back none of the trips a sync writes: the sync puts their figures
		// into the figures cache.
		s.engine, err = tripsync.New(ctx, db, s.store, tripsync.WithFiguresFeed(figures.NewFeed(db, figures.SyncInputs(ctx, sync))))
	}
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	return s, s.allow(ctx, "")
}

// ManagePolicy is the policy of the management handle: the connector's, and what Cozy's Home
// does when a person connects or disconnects a konnector: creating the accounts' index (POST) and
// deleting an account (DELETE).
func ManagePolicy(connector vault.Policy) vault.Policy {
	return func(doctype, verb string) error {
		if doctype == vault.DoctypeAccounts && (verb == http.MethodPost || verb == http.MethodDelete) {
			return nil
		}
		return connector(doctype, verb)
	}
}

// ErrCheck matches the errors of [Service.Add] when the server did not accept the account: the
// server refused the token, cannot be reached, or is not an e-mission server. Nothing was saved.
var ErrCheck = errors.New("the tracking server did not accept the account")

// checkError is a failed check: the server's error, and the words for people.
type checkError struct{ err error }

func (e checkError) Error() string        { return e.err.Error() }
func (e checkError) Unwrap() error        { return e.err }
func (e checkError) Is(target error) bool { return target == ErrCheck }

// ErrInvalid matches the errors of [Service.Add] for an entry that cannot be an account (a server
// URL that is not http(s), an empty token or device name); the message says what is wrong.
var ErrInvalid = errors.New("invalid account")

type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Unwrap() error        { return e.err }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// Add checks the account against its server (a get_range_ts request with the token) and saves it
// only when the server accepted it: a wrong token or server is refused at once, not retried by
// every later sync. An account for the same server and device gets the new token. A malformed
// entry gives an error matching [ErrInvalid], a refusal of the server one matching [ErrCheck].
func (s *Service) Add(ctx context.Context, n accounts.New) (*accounts.Account, error) {
	if err := n.Validate(); err != nil {
		return nil, invalidError{err}
	}
	s.addMu.Lock()
	defer s.addMu.Unlock()
	if err := s.allow(ctx, n.ServerURL); err != nil {
		return nil, err
	}
	opts := []openpath.Option{openpath.WithLogger(s.opts.Logger)}
	if s.opts.Client != nil {
		opts = append(opts, openpath.WithHTTPClient(s.opts.Client))
	}
	if err := Check(ctx, n.ServerURL, n.Token, opts...); err != nil {
		_ = s.allow(context.WithoutCancel(ctx), "") // the checked server only if an account has it
		return nil, err
	}
	a, _, err := s.manage.Ensure(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("save the account: %w", err)
	}
	return a, nil
}

// Check asks the tracking server at serverURL whether it accepts token (a get_range_ts request),
// retrying once: a refusal matches [ErrCheck] and, below it, the openpath client's error
// (openpath.ErrAuthRefused for a refused token...). opts configure the client.
func Check(ctx context.Context, serverURL, token string, opts ...openpath.Option) error {
	opts = append(opts, openpath.WithRetryPolicy(openpath.RetryPolicy{MaxRetries: 1, InitialBackoff: 200 * time.Millisecond, MaxBackoff: time.Second}))
	client, err := openpath.New(serverURL, token, opts...)
	if err == nil {
		_, err = client.PipelineRange(ctx)
	}
	if err != nil {
		return checkError{err}
	}
	return nil
}

// Remove removes an account; its trips stay in the vault.
func (s *Service) Remove(ctx context.Context, id string) error {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	if err := s.manage.Remove(ctx, id); err != nil {
		return err
	}
	return s.allow(ctx, "")
}

// State is an account as the Connections screen shows it.
type State struct {
	ID, Device, Server string
	// LastRun is the last sync's outcome (nil: never synced).
	LastRun *accounts.Run
	// UpTo is where the trips are up to on the server (zero: nothing yet).
	UpTo time.Time
	// Trips counts the device's trips in the vault; ToRetry the trips announced but not sent;
	// LabelsWaiting the labels waiting for their trip.
	Trips, ToRetry, LabelsWaiting int
	// Problem names the last run's problem in plain words (see [Problem]), "" when it went well.
	Problem string
	// Syncing is true while a sync runs; Progress is what it did so far.
	Syncing  bool
	Progress tripsync.Summary
}

// List returns every account with its state.
func (s *Service) List(ctx context.Context) ([]State, error) {
	// Which accounts sync is read before the accounts: a sync records its run before it ends,
	// so an account shown as not syncing shows the run that ended last (read the other way, a
	// run ending in between would show as over with the run before it).
	s.mu.Lock()
	running := make(map[string]tripsync.Summary, len(s.running))
	for id, p := range s.running {
		running[id] = *p
	}
	s.mu.Unlock()
	list, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]State, 0, len(list))
	for _, a := range list {
		rep, err := s.engine.Report(ctx, a.Auth.Login)
		if err != nil {
			return nil, err
		}
		st := State{ID: a.ID, Device: a.Auth.Login, Server: a.Auth.ServerURL, LastRun: a.Data.LastRun, Trips: rep.Trips,
			ToRetry: len(a.Data.Retry), LabelsWaiting: len(a.Data.PendingLabels), Problem: Problem(a.Data.LastRun)}
		if c := a.Data.Cursors.Trips; c > 0 {
			st.UpTo = time.Unix(0, int64(c*1e9)).UTC()
		}
		if p, ok := running[a.ID]; ok {
			st.Syncing, st.Progress = true, p
		}
		out = append(out, st)
	}
	return out, nil
}

// Problems of a run, as [Problem] names them; each is a key of the app's catalog.
const (
	ProblemToken       = "connections.problem.token"
	ProblemDown        = "connections.problem.down"
	ProblemNotEmission = "connections.problem.notEmission"
	ProblemVault       = "connections.problem.vault"
	ProblemStopped     = "connections.problem.stopped"
	ProblemTrips       = "connections.problem.trips"
	ProblemOther       = "connections.problem.other"
)

// Problem names the problem of a recorded run ("" for none) for people. The run keeps the
// error's message, made of the client's fixed words, which this reads.
func Problem(run *accounts.Run) string {
	if run == nil {
		return ""
	}
	switch run.Status {
	case "interrupted":
		return ProblemStopped
	case "error":
	default:
		if run.Failures > 0 {
			return ProblemTrips
		}
		return ""
	}
	msg := run.Error
	switch {
	case strings.Contains(msg, "refused the token"):
		return ProblemToken
	case strings.Contains(msg, "server unavailable"):
		return ProblemDown
	case strings.Contains(msg, "malformed answer"), strings.Contains(msg, "redirect"), strings.Contains(msg, " 404 "):
		return ProblemNotEmission
	case strings.Contains(msg, "vault"):
		return ProblemVault
	}
	return ProblemOther
}

// CheckProblem names, for people, why [Service.Add] refused an account (see [Problem]).
func CheckProblem(err error) string {
	switch {
	case errors.Is(err, openpath.ErrAuthRefused):
		return ProblemToken
	case errors.Is(err, openpath.ErrServerDown):
		return ProblemDown
	}
	return ProblemNotEmission
}

// ErrBusy is returned when the account is already syncing.
var ErrBusy = errors.New("this account is already syncing")

// Sync syncs one account now, records the run in the account, and returns its summary. It
// returns ErrBusy when the account is already syncing. deadline (zero: none) bounds the run.
func (s *Service) Sync(ctx context.Context, id string, deadline time.Time) (tripsync.Summary, error) {
	progress, ok := s.begin(id)
	if !ok {
		return tripsync.Summary{}, ErrBusy
	}
	defer s.end(id)
	return s.sync(ctx, id, deadline, progress)
}

// SyncNow starts a sync of the account in the background (ctx bounds it) and returns at once,
// the account already marked as syncing; it returns ErrBusy when the account is already syncing.
// [Service.Wait] waits for those syncs.
func (s *Service) SyncNow(ctx context.Context, id string) error {
	progress, ok := s.begin(id)
	if !ok {
		return ErrBusy
	}
	s.wg.Go(func() {
		defer s.end(id)
		if _, err := s.sync(ctx, id, time.Time{}, progress); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("sync failed", "account", id, "error", err)
		}
	})
	return nil
}

// sync runs the sync of an account marked as syncing, reporting its progress in progress.
func (s *Service) sync(ctx context.Context, id string, deadline time.Time, progress *tripsync.Summary) (tripsync.Summary, error) {
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return tripsync.Summary{}, err
	}
	// An account added by another process (`connector accounts add`) gets its server allowed.
	if err := s.allowAccounts(ctx); err != nil {
		return tripsync.Summary{}, err
	}
	token, err := s.store.Token(a)
	if err != nil {
		return tripsync.Summary{}, err
	}
	client, err := s.client(a.Auth.ServerURL, token, s.opts.Retry)
	if err != nil {
		return tripsync.Summary{}, fmt.Errorf("account %s: %w", id, err)
	}
	opts := tripsync.Options{Deadline: deadline, Logger: s.opts.Logger, AppVersion: s.opts.AppVersion, Server: host(a.Auth.ServerURL),
		Progress: func(sum tripsync.Summary) {
			s.mu.Lock()
			*progress = sum
			s.mu.Unlock()
			s.notify()
		}}
	start := time.Now()
	sum, err := s.engine.Sync(ctx, a, client, opts)
	RecordRun(ctx, s.store, id, start, sum, err, s.opts.Logger)
	if s.opts.AfterSync != nil && sum.Created+sum.Updated+sum.Merged+sum.LabelsApplied > 0 {
		s.opts.AfterSync(context.WithoutCancel(ctx), sum)
	}
	if err != nil {
		return sum, fmt.Errorf("account %s: %w", id, err)
	}
	return sum, nil
}

// Wait waits for the syncs [Service.SyncNow] started.
func (s *Service) Wait() { s.wg.Wait() }

// Changed returns a channel closed at the next start or end of a sync, or progress of one: a
// page waiting for a sync to finish selects on it.
func (s *Service) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Run syncs every account at once and then every interval (with jitter), each on its own
// schedule, until ctx ends; an account added meanwhile starts at the next interval.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	keys := func(ctx context.Context) ([]string, error) {
		list, err := s.store.List(ctx)
		ids := make([]string, len(list))
		for i, a := range list {
			ids[i] = a.ID
		}
		return ids, err
	}
	schedule.Every(ctx, interval, keys, func(ctx context.Context, id string, next time.Time) {
		_, err := s.Sync(ctx, id, next)
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrBusy) {
			s.opts.Logger.Warn("sync failed; trying again at the next interval", "account", id, "error", err)
		}
	}, func(err error) {
		s.opts.Logger.Error("could not list the accounts; trying again at the next interval", "error", err)
	})
}

func (s *Service) begin(id string) (*tripsync.Summary, bool) {
	s.mu.Lock()
	if _, busy := s.running[id]; busy {
		s.mu.Unlock()
		return nil, false
	}
	p := &tripsync.Summary{Account: id}
	s.running[id] = p
	s.mu.Unlock()
	s.notify()
	return p, true
}

func (s *Service) end(id string) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
	s.notify()
}

func (s *Service) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// client returns the openpath client of a server and token.
func (s *Service) client(serverURL, token string, retry openpath.RetryPolicy) (*openpath.Client, error) {
	opts := []openpath.Option{openpath.WithLogger(s.opts.Logger)}
	if s.opts.Client != nil {
		opts = append(opts, openpath.WithHTTPClient(s.opts.Client))
	}
	if retry != (openpath.RetryPolicy{}) {
		opts = append(opts, openpath.WithRetryPolicy(retry))
	}
	return openpath.New(serverURL, token, opts...)
}

// allowAccounts gives AllowServers the accounts' servers, unless Add or Remove is doing it.
func (s *Service) allowAccounts(ctx context.Context) error {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	return s.allow(ctx, "")
}

// allow gives AllowServers the accounts' servers, and extra when not "". Its callers hold addMu
// (but New, before the service is shared).
func (s *Service) allow(ctx context.Context, extra string) error {
	if s.opts.AllowServers == nil {
		return nil
	}
	list, err := s.manage.List(ctx)
	if err != nil {
		return err
	}
	var urls []string
	for _, a := range list {
		urls = append(urls, a.Auth.ServerURL)
	}
	if extra != "" {
		urls = append(urls, extra)
	}
	slices.Sort(urls)
	return s.opts.AllowServers(slices.Compact(urls))
}

func host(serverURL string) string {
	if u, err := url.Parse(serverURL); err == nil && u.Host != "" {
		return u.Host
	}
	return serverURL
}

// RecordRun keeps the outcome of a sync in the account, for `connector status` and the
// Connections screen. A run stopped by its context (a signal, the app stopping) is recorded too,
// as "interrupted" with the context's cause, within a short grace period.
func RecordRun(ctx context.Context, store *accounts.Store, id string, start time.Time, sum tripsync.Summary, syncErr error, logger *slog.Logger) {
	run := &accounts.Run{
		Start: start.UTC().Format(time.RFC3339), End: time.Now().UTC().Format(time.RFC3339), Status: "ok",
		Fetched: sum.Fetched, Created: sum.Created, Updated: sum.Updated, Merged: sum.Merged, Failures: len(sum.Errors), ToRetry: sum.ToRetry,
	}
	switch {
	case syncErr != nil && ctx.Err() != nil:
		// The cause says why (the signal), where the sync's error only says "context canceled".
		run.Status, run.Error = "interrupted", context.Cause(ctx).Error()
	case syncErr != nil:
		run.Status, run.Error = "error", syncErr.Error()
	case sum.Partial:
		run.Status = "partial"
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), graceTimeout)
		defer cancel()
	}
	err := store.UpdateData(ctx, id, func(d *accounts.Data) error {
		d.LastRun = run
		return nil
	})
	if err != nil {
		logger.Warn("could not record the run in the account", "account", id, "error", err)
		return
	}
	if run.Status == "interrupted" {
		logger.Warn("run interrupted and recorded; the next run resumes where this one stopped",
			"account", id, "reason", run.Error, "created", run.Created, "updated", run.Updated)
	}
}
