// Package accounts keeps the connector's accounts: one io.cozy.accounts document per tracking
// server and device, holding the token (sealed at rest in an embedded vault) and the sync state.
//
// The layout is Cozy's: account_type is the connector's slug, and auth holds the values of the
// konnector's form fields (manifest.konnector "fields", as cozy-konnector-libs hands them to a
// konnector): auth.login the device name, auth.password the token, auth.serverUrl the tracking
// server. The connector's own state (cursors, labels waiting for their trip, the last run) lives
// in data. Every change goes through an optimistic-concurrency update of the current document,
// never a write-back of an older copy, and keeps what other apps set on the account (vault.Update
// merges): on a Cozy, Harvest and the stack own members such as relationships, mutedErrors or
// state.
package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Slug is the connector's slug: its konnector's slug on a Cozy, account_type of its accounts,
// createdByApp of its trips. Cozy's own OpenPATH and Tracemob konnectors are "openpath" and
// "tracemob": another slug keeps the two apart in a Cozy and in the registry.
const Slug = "coachco2-openpath"

// LegacySlug is the account_type of the accounts made before the connector had its own slug:
// they are still the connector's.
const LegacySlug = "openpath"

// isMine reports whether an account_type is the connector's.
func isMine(accountType string) bool { return accountType == Slug || accountType == LegacySlug }

// Account is an io.cozy.accounts document of the connector.
type Account struct {
	ID          string `json:"_id,omitempty"`
	Rev         string `json:"_rev,omitempty"`
	AccountType string `json:"account_type"`
	Auth        Auth   `json:"auth"`
	Data        Data   `json:"data"`
	State       string `json:"state,omitempty"`
}

// Auth holds what the person typed: the device name, the token (opcode) and the server.
type Auth struct {
	Login     string `json:"login"`
	Password  string `json:"password"`
	ServerURL string `json:"serverUrl"`
}

// Data is the connector's state for the account.
type Data struct {
	// Cursors are write_ts watermarks on the server: every entry written before them is in the
	// vault. Zero means "from the start of the server's data".
	Cursors Cursors `json:"cursors"`
	// PendingLabels are labels whose trip is not in the vault yet.
	PendingLabels []PendingLabel `json:"pendingLabels,omitempty"`
	// FailedTrips are trips the server sent that could not be converted, for the status report.
	FailedTrips []FailedTrip `json:"failedTrips,omitempty"`
	// Retry are trips the server announced but did not send: every run asks for them again.
	Retry   []RetryTrip `json:"retry,omitempty"`
	LastRun *Run        `json:"lastRun,omitempty"`
}

// Cursors are the sync positions.
type Cursors struct {
	Trips  float64 `json:"trips,omitempty"`
	Labels float64 `json:"labels,omitempty"`
}

// PendingLabel is a label entry waiting for its trip.
type PendingLabel struct {
	Key     string  `json:"key"`
	Value   string  `json:"value"`
	StartTS float64 `json:"startTs"`
	EndTS   float64 `json:"endTs"`
	WriteTS float64 `json:"writeTs"`
	EntryID string  `json:"entryId,omitempty"`
}

// FailedTrip is a trip the connector could not keep.
type FailedTrip struct {
	TripID string `json:"tripId"`
	Error  string `json:"error"`
	At     string `json:"at"`
}

// RetryTrip is a trip the server announced (a trip entry of find_entries) but left out of its
// day's getTrips answer, or a day whose answer failed: each run asks for that day again until the
// trip comes.
type RetryTrip struct {
	EntryID string  `json:"entryId"`
	Day     string  `json:"day"` // the trip's local start date, YYYY-MM-DD, as getTrips takes it
	StartTS float64 `json:"startTs"`
	EndTS   float64 `json:"endTs"`
	// Since is when it was first missed (RFC 3339); Attempts counts the runs that asked for it.
	Since    string `json:"since"`
	Attempts int    `json:"attempts"`
	Reason   string `json:"reason"`
}

// Run is the outcome of the last sync.
type Run struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	Status   string `json:"status"` // "ok", "partial" (time budget), "error", "interrupted" (a signal)
	Error    string `json:"error,omitempty"`
	Fetched  int    `json:"fetched"`
	Created  int    `json:"created"`
	Updated  int    `json:"updated"`
	Merged   int    `json:"merged,omitempty"`
	Failures int    `json:"failures"`
	ToRetry  int    `json:"toRetry,omitempty"`
}

// maxFailedTrips bounds the failures kept per account: the oldest go first.
const maxFailedTrips = 100

// Store reads and writes accounts in a vault.
type Store struct {
	db  *vault.DB
	box *seal.Box // nil: tokens are stored as given (a Cozy stack encrypts auth itself)
}

// Open returns a store over the io.cozy.accounts database, creating the index its queries need.
// With a box, tokens are sealed before they are written and opened when read.
func Open(ctx context.Context, db *vault.DB, box *seal.Box) (*Store, error) {
	if err := db.EnsureIndexes(ctx, vault.Index{Name: "by-account_type", Fields: []string{"account_type"}}); err != nil {
		return nil, err
	}
	return &Store{db: db, box: box}, nil
}

// ErrNotFound means there is no connector account with that id.
var ErrNotFound = errors.New("no such account")

// New describes an account to create.
type New struct {
	ServerURL string
	Token     string
	Device    string
}

// Validate checks what a person typed and says what is wrong.
func (n New) Validate() error {
	u, err := url.Parse(n.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("server URL %q: want http(s)://host[:port]/", n.ServerURL)
	}
	if strings.TrimSpace(n.Token) == "" {
		return errors.New("the token (opcode) is empty")
	}
	if strings.TrimSpace(n.Device) == "" {
		return errors.New("the device name is empty")
	}
	return nil
}

// Ensure returns the account for this server and device, creating it when there is none, and
// updating its token when it changed. created reports a new account.
//
// Two processes may ensure the same account at once (two first syncs): a new account gets an id
// derived from the server and the device ([AccountID]) and is written with a create that conflicts
// when the id exists, so the loser of the race reads the winner's account instead of adding a
// second one. An existing account for the same server and device, even one with a random id made
// by an earlier version, is found first and kept.
func (s *Store) Ensure(ctx context.Context, n New) (a *Account, created bool, err error) {
	if err := n.Validate(); err != nil {
		return nil, false, err
	}
	n.ServerURL = normalizeServerURL(n.ServerURL)
	id, err := s.find(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if id == "" {
		id = AccountID(n.ServerURL, n.Device)
		if created, err = s.create(ctx, id, n); err != nil {
			return nil, false, err
		}
	}
	if a, err = s.Get(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	if err == nil {
		if tok, err := s.open(id, a.Auth.Password); err == nil && tok == n.Token {
			return a, created, nil // nothing to change: no write, so concurrent Ensures do not conflict
		}
	}
	_, err = vault.Update(ctx, s.db, id, func(a *Account, found bool) error {
		if !found {
			// Removed since it was found: made again under the same id.
			*a = Account{AccountType: Slug, Auth: Auth{Login: n.Device, ServerURL: n.ServerURL}}
		}
		if current, err := s.open(id, a.Auth.Password); err != nil || current != n.Token {
			a.Auth.Password = s.seal(id, n.Token)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("save the token of account %s: %w", id, err)
	}
	a, err = s.Get(ctx, id)
	return a, created, err
}

// AccountID is the id Ensure gives a new account: derived from the (normalised) server URL and the
// device, so that every process creating the account for them picks the same id. The vault is
// already the person's, so the instance needs no part in it.
func AccountID(serverURL, device string) string {
	sum := sha256.Sum256([]byte(normalizeServerURL(serverURL) + "\x00" + device))
	return Slug + "-" + hex.EncodeToString(sum[:16])
}

// find returns the id of the account for n's server and device, "" when there is none. Should
// several exist (made by older versions racing), the one with the derived id wins, else the first.
func (s *Store) find(ctx context.Context, n New) (string, error) {
	all, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	derived, id := AccountID(n.ServerURL, n.Device), ""
	for _, a := range all {
		if normalizeServerURL(a.Auth.ServerURL) != n.ServerURL || a.Auth.Login != n.Device {
			continue
		}
		if a.ID == derived {
			return a.ID, nil
		}
		if id == "" {
			id = a.ID
		}
	}
	return id, nil
}

// create writes a new account under id. The body holds neither _id nor _rev: a CouchDB server and
// the embedded store then refuse it with a conflict when a live document has that id, and a Cozy
// stack takes it as a create with a fixed id. created is false when another process created it
// first.
func (s *Store) create(ctx context.Context, id string, n New) (created bool, err error) {
	a := Account{AccountType: Slug, Auth: Auth{Login: n.Device, Password: s.seal(id, n.Token), ServerURL: n.ServerURL}}
	_, err = s.db.Put(ctx, id, a)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, vault.ErrConflict):
		return false, nil
	}
	return false, fmt.Errorf("create account %s: %w", id, err)
}

// normalizeServerURL gives one spelling of a server URL: lower-case scheme and host, no default
// port, no trailing slash. Validate has accepted the URL.
func normalizeServerURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(raw, "/")
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		u.Host = strings.TrimSuffix(u.Host, ":"+port)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// Get reads one account.
func (s *Store) Get(ctx context.Context, id string) (*Account, error) {
	var a Account
	rev, err := s.db.Get(ctx, id, &a)
	if errors.Is(err, vault.ErrNotFound) || err == nil && !isMine(a.AccountType) {
		return nil, fmt.Errorf("account %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	a.ID, a.Rev = id, rev
	return &a, nil
}

// List returns the connector's accounts (legacy ones included), ordered by id.
func (s *Store) List(ctx context.Context) ([]Account, error) {
	var all []Account
	// One query per account_type, each an equality the by-account_type index answers.
	for _, slug := range []string{Slug, LegacySlug} {
		some, err := vault.FindAll[Account](ctx, s.db, vault.Query{Selector: map[string]any{"account_type": slug}})
		if err != nil {
			return nil, err
		}
		all = append(all, some...)
	}
	slices.SortFunc(all, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return all, nil
}

// Remove deletes an account. Its trips stay in the vault: they are the person's.
func (s *Store) Remove(ctx context.Context, id string) error {
	a, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.db.Delete(ctx, id, a.Rev)
	return err
}

// Token returns the account's token in clear, for the tracking server only.
func (s *Store) Token(a *Account) (string, error) {
	return s.open(a.ID, a.Auth.Password)
}

// UpdateData applies change to the current data of the account and saves it, retrying on
// conflicts with a fresh copy, so that concurrent runs never write back stale state.
func (s *Store) UpdateData(ctx context.Context, id string, change func(*Data) error) error {
	_, err := vault.Update(ctx, s.db, id, func(a *Account, found bool) error {
		if !found || !isMine(a.AccountType) {
			return fmt.Errorf("account %q: %w", id, ErrNotFound)
		}
		return change(&a.Data)
	})
	return err
}

// RecordFailure adds a trip that could not be kept, keeping the newest maxFailedTrips.
func (d *Data) RecordFailure(tripID string, err error, at time.Time) {
	for i, f := range d.FailedTrips {
		if f.TripID == tripID {
			d.FailedTrips = append(d.FailedTrips[:i], d.FailedTrips[i+1:]...)
			break
		}
	}
	d.FailedTrips = append(d.FailedTrips, FailedTrip{TripID: tripID, Error: err.Error(), At: at.UTC().Format(time.RFC3339)})
	if len(d.FailedTrips) > maxFailedTrips {
		d.FailedTrips = d.FailedTrips[len(d.FailedTrips)-maxFailedTrips:]
	}
}

func (s *Store) seal(id, token string) string {
	if s.box == nil {
		return token
	}
	return s.box.Seal(token, id)
}

func (s *Store) open(id, stored string) (string, error) {
	if s.box == nil {
		if seal.IsSealed(stored) {
			return "", errors.New("the token is sealed but no key file was given")
		}
		return stored, nil
	}
	tok, err := s.box.Open(stored, id)
	if err != nil {
		return "", fmt.Errorf("account %s: %w", id, err)
	}
	return tok, nil
}
