// Package konnector speaks the Cozy stack's konnector protocol: it reads the job's environment
// (COZY_URL, COZY_CREDENTIALS, COZY_FIELDS, COZY_PARAMETERS, COZY_TIME_LIMIT), logs JSON lines on
// stdout as the stack expects, and turns an error into the code the stack understands
// (LOGIN_FAILED, VENDOR_DOWN, UNKNOWN_ERROR.PARTIAL_SYNC...).
//
// The stack cannot run here; this package follows its documented contract
// (docs/cozy-conventions in the project's reference) and is tested against it.
package konnector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error codes the stack understands as a job's outcome.
const (
	LoginFailed  = "LOGIN_FAILED"
	VendorDown   = "VENDOR_DOWN"
	PartialSync  = "UNKNOWN_ERROR.PARTIAL_SYNC"
	UnknownError = "UNKNOWN_ERROR"
	// UserActionNeeded asks the person to fix the account (e.g. a missing field).
	UserActionNeeded = "USER_ACTION_NEEDED"
)

// Env is the konnector's job environment (cozy-stack worker/exec/konnector.go, PrepareCmdEnv).
type Env struct {
	URL         string // COZY_URL, the instance, with a trailing slash
	Credentials string // COZY_CREDENTIALS, the bearer token (never logged)
	Fields      Fields
	// Parameters is COZY_PARAMETERS: the manifest's "parameters".
	Parameters Parameters
	Locale     string
	// TimeLimit is COZY_TIME_LIMIT: how long the job may run (0 when unset).
	TimeLimit time.Duration
}

// Fields is COZY_FIELDS, the job message.
type Fields struct {
	Konnector    string `json:"konnector"`
	Account      string `json:"account"`
	FolderToSave string `json:"folder_to_save"`
}

// Parameters are the konnector's settings the stack passes in COZY_PARAMETERS: the manifest's
// "parameters" member, which an admin may override at install (cozy-stack konnectors install
// --parameters). Members the connector does not know, such as the "secret" the stack adds for some
// account types, are ignored.
type Parameters struct {
	// SyncWindowDays is how many days of the tracking server a first sync reads at a time, before
	// it widens its windows (tripsync's FirstWindow); 0 leaves the default.
	SyncWindowDays int `json:"syncWindowDays"`
}

// maxSyncWindowDays bounds syncWindowDays: a year of trips at once is already a large answer.
const maxSyncWindowDays = 366

// SyncWindow is the first discovery window of a sync, 0 for the sync's default.
func (p Parameters) SyncWindow() time.Duration {
	return time.Duration(p.SyncWindowDays) * 24 * time.Hour
}

// Detect reports whether the process runs as a konnector: COZY_URL and COZY_CREDENTIALS are set.
func Detect(getenv func(string) string) bool {
	return getenv("COZY_URL") != "" && getenv("COZY_CREDENTIALS") != ""
}

// ReadEnv reads the job's environment and says what is missing or malformed.
func ReadEnv(getenv func(string) string) (*Env, error) {
	e := &Env{URL: getenv("COZY_URL"), Credentials: getenv("COZY_CREDENTIALS"), Locale: getenv("COZY_LOCALE")}
	if e.URL == "" || e.Credentials == "" {
		return nil, errors.New("konnector: COZY_URL and COZY_CREDENTIALS must be set")
	}
	if !strings.HasSuffix(e.URL, "/") {
		e.URL += "/"
	}
	if f := getenv("COZY_FIELDS"); f != "" {
		if err := json.Unmarshal([]byte(f), &e.Fields); err != nil {
			return nil, fmt.Errorf("konnector: COZY_FIELDS is not the job's JSON message: %w", err)
		}
	}
	if e.Fields.Account == "" {
		return nil, errors.New("konnector: COZY_FIELDS names no account")
	}
	if p := getenv("COZY_PARAMETERS"); p != "" && p != "null" {
		if err := json.Unmarshal([]byte(p), &e.Parameters); err != nil {
			return nil, fmt.Errorf("konnector: COZY_PARAMETERS is not the manifest's parameters object: %w", err)
		}
		if d := e.Parameters.SyncWindowDays; d < 0 || d > maxSyncWindowDays {
			return nil, fmt.Errorf("konnector: COZY_PARAMETERS: syncWindowDays %d is not between 0 and %d", d, maxSyncWindowDays)
		}
	}
	if t := getenv("COZY_TIME_LIMIT"); t != "" {
		s, err := strconv.ParseFloat(t, 64)
		if err != nil || s < 0 {
			return nil, fmt.Errorf("konnector: COZY_TIME_LIMIT %q is not a number of seconds", t)
		}
		e.TimeLimit = time.Duration(s * float64(time.Second))
	}
	return e, nil
}

// Deadline is when the job must have stopped, with a margin to save its state; zero when there is
// no limit.
func (e *Env) Deadline(start time.Time) time.Time {
	if e.TimeLimit <= 0 {
		return time.Time{}
	}
	margin := min(e.TimeLimit/10, 30*time.Second)
	return start.Add(e.TimeLimit - margin)
}

// Handler is a slog.Handler writing the stack's log lines: one JSON object per line,
// {"type": "debug|info|warning|error|critical", "message": "..."}, attributes folded into the
// message as key=value.
type Handler struct {
	mu    *sync.Mutex
	out   io.Writer
	attrs []slog.Attr
	level slog.Level
}

// NewHandler returns a Handler writing to out (the process's stdout).
func NewHandler(out io.Writer, level slog.Level) *Handler {
	return &Handler{mu: &sync.Mutex{}, out: out, level: level}
}

// Enabled reports whether the level is logged.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle writes one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	return h.write(levelType(r.Level), b.String())
}

// WithAttrs returns a handler adding attrs to every line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

// WithGroup is not needed by the connector's logs: groups are flattened.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// Critical writes the job's outcome: the error code the stack shows the person.
func (h *Handler) Critical(code string) error { return h.write("critical", code) }

func (h *Handler) write(typ, msg string) error {
	line, err := json.Marshal(struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{typ, msg})
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err = h.out.Write(append(line, '\n'))
	return err
}

func levelType(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warning"
	}
	return "error"
}
