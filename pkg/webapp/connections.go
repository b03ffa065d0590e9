package webapp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/connections"
)

// connectionsState is the Connections screen's service, set by [Server.EnableConnections].
type connectionsState struct {
	svc *connections.Service
	// ctx bounds the syncs started by "Sync now": the server's, not the request's.
	ctx context.Context
}

// EnableConnections turns on the Connections screen (/connections) over the service: add an
// account (checked against its server first), see each account's state, "Sync now" and
// "Remove". ctx bounds the syncs the screen starts (they outlive the request). Call it before
// serving.
func (s *Server) EnableConnections(ctx context.Context, svc *connections.Service) {
	s.connections = &connectionsState{svc: svc, ctx: ctx}
}

// connectionForm is what the add form shows again after a refusal (never the token).
type connectionForm struct {
	Server, ServerURL, Device string
	// Error is a catalog key (a check's problem) or "", and Detail the entry's own error.
	Error, Detail string
}

// connectionView is one account on the screen.
type connectionView struct {
	connections.State
	LastSync, UpTo string
}

// connectionsView is the Connections screen's data, and /api/connections's.
type connectionsView struct {
	Enabled  bool
	Accounts []connectionView
	Servers  []connections.Server
	Syncing  bool
	Form     connectionForm
}

func (s *Server) connectionsPage(r *http.Request) (view, error) {
	return s.connectionsData(r, connectionForm{Server: connections.KnownServers()[0].URL, Device: "phone"})
}

func (s *Server) connectionsData(r *http.Request, form connectionForm) (connectionsView, error) {
	v := connectionsView{Servers: connections.KnownServers(), Form: form}
	if s.connections == nil {
		return v, nil
	}
	v.Enabled = true
	if r.URL.Query().Get("wait") != "" {
		s.waitForSyncs(r)
	}
	list, err := s.connections.svc.List(r.Context())
	if err != nil {
		return v, err
	}
	for _, st := range list {
		cv := connectionView{State: st}
		if st.LastRun != nil {
			if t, err := time.Parse(time.RFC3339, st.LastRun.End); err == nil {
				cv.LastSync = logTime(t)
			}
		}
		if !st.UpTo.IsZero() {
			cv.UpTo = logTime(st.UpTo)
		}
		v.Syncing = v.Syncing || st.Syncing
		v.Accounts = append(v.Accounts, cv)
	}
	return v, nil
}

// waitForSyncsLimit bounds how long /api/connections?wait=1 holds a request: less than the
// server's write timeout and than proxies' usual read timeouts.
const waitForSyncsLimit = 25 * time.Second

// waitForSyncs holds a request for ?wait=1 until no account is syncing any more (the page's
// script then reloads it), the request ends, or waitForSyncsLimit passes.
func (s *Server) waitForSyncs(r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), waitForSyncsLimit)
	defer cancel()
	for {
		changed := s.connections.svc.Changed()
		list, err := s.connections.svc.List(ctx)
		if err != nil {
			return
		}
		syncing := false
		for _, st := range list {
			syncing = syncing || st.Syncing
		}
		if !syncing {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// addConnectionForm checks the account against its server and saves it, then starts its first
// sync; a refusal shows the form again with the reason in plain words.
func (s *Server) addConnectionForm(w http.ResponseWriter, r *http.Request) {
	if s.connections == nil {
		s.fail(w, r, badRequest{errors.New("connections are not enabled")})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badRequest{err})
		return
	}
	form := connectionForm{Server: r.Form.Get("server"), ServerURL: strings.TrimSpace(r.Form.Get("server_url")), Device: strings.TrimSpace(r.Form.Get("device"))}
	serverURL := form.Server
	if serverURL == "" || serverURL == "other" {
		serverURL = form.ServerURL
	}
	a, err := s.connections.svc.Add(r.Context(), accounts.New{ServerURL: serverURL, Token: strings.TrimSpace(r.Form.Get("token")), Device: form.Device})
	if err != nil {
		switch {
		case errors.Is(err, connections.ErrCheck):
			form.Error = connections.CheckProblem(err)
			s.opts.Logger.Info("account refused by its server", "error", err)
		case errors.Is(err, connections.ErrInvalid):
			form.Error, form.Detail = "connections.invalid", err.Error()
		default:
			s.fail(w, r, err)
			return
		}
		v, lerr := s.connectionsData(r, form)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		s.render(w, r, "connections", v, http.StatusBadRequest)
		return
	}
	if err := s.connections.svc.SyncNow(s.connections.ctx, a.ID); err != nil && !errors.Is(err, connections.ErrBusy) {
		s.opts.Logger.Warn("first sync", "error", err)
	}
	http.Redirect(w, r, "/connections?saved=added", http.StatusSeeOther)
}

// syncConnectionForm starts a sync of the account ("Sync now").
func (s *Server) syncConnectionForm(w http.ResponseWriter, r *http.Request) {
	if s.connections == nil {
		s.fail(w, r, badRequest{errors.New("connections are not enabled")})
		return
	}
	saved := "syncStarted"
	if err := s.connections.svc.SyncNow(s.connections.ctx, r.PathValue("id")); errors.Is(err, connections.ErrBusy) {
		saved = "busy"
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections?saved="+saved, http.StatusSeeOther)
}

// removeConnectionForm removes the account; its trips stay.
func (s *Server) removeConnectionForm(w http.ResponseWriter, r *http.Request) {
	if s.connections == nil {
		s.fail(w, r, badRequest{errors.New("connections are not enabled")})
		return
	}
	if err := s.connections.svc.Remove(r.Context(), r.PathValue("id")); err != nil {
		if errors.Is(err, accounts.ErrNotFound) {
			err = badRequest{err}
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/connections?"+url.Values{"saved": {"removed"}}.Encode(), http.StatusSeeOther)
}
