package engine

// Research sharing in a Cozy: the web app's Studies screen and forms, with the sharing's requests
// carried by the stack's remote doctypes (pkg/sharing's CozyRemote), the only way out an app in
// a Cozy has (cozy-stack docs/remote.md); the stack logs each of them in io.cozy.remote.requests,
// and the transmission log in the vault keeps them as `app serve` does.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// StudiesPath is the Studies screen, which the engine renders with the other Paths.
const StudiesPath = "/studies"

// studyForm is what a correction may post to on the Studies screen: add a study by its id, the
// consent form (its preview or the grant), the revocation.
var studyForm = regexp.MustCompile(`^/studies/(add|[a-z0-9][a-z0-9.-]*[a-z0-9]/(consent|revoke))$`)

// studies is a run's research sharing.
type studies struct {
	svc *sharing.Service
	// screen is the URL of the Studies screen to render: where the last form led (its preview, or
	// what it did), else StudiesPath.
	screen string
	// problems are the alerts of the forms the web app refused (its error page's, escaped by
	// its templates), which the screen shows: `app serve` would show that page.
	problems []string
}

// enableStudies opens the sharing over the vault, its requests going through the stack at
// instanceURL with token (and the engine's connections to that stack only), and turns on the
// web app's Studies screen, with the form that adds a study by its id.
func enableStudies(ctx context.Context, v *vault.Vault, c *coach.Coach, app *webapp.Server, instanceURL, token string, now func() time.Time) (*studies, error) {
	guard := netguard.New()
	if err := guard.AllowURL(instanceURL); err != nil {
		return nil, fmt.Errorf("engine: the stack's address %q: %w", instanceURL, err)
	}
	remote := sharing.CozyRemote{StackURL: instanceURL, Token: token, Client: &http.Client{Transport: guard.Transport()}}
	svc, err := sharing.New(ctx, v, c, sharing.Options{Transport: remote, Now: now})
	if err != nil {
		return nil, fmt.Errorf("engine: the sharing: %w", err)
	}
	app.EnableStudies(svc, nil)
	app.EnableAddStudy(remote.FetchStudy)
	return &studies{svc: svc, screen: StudiesPath}, nil
}

// answered keeps where a Studies form led (the web app redirects to the screen with the preview,
// or with what was done), for the screen the engine renders next.
func (st *studies) answered(path string, rec *httptest.ResponseRecorder) {
	if !studyForm.MatchString(path) {
		return
	}
	if rec.Code >= 400 {
		body := rec.Body.String()
		if start := strings.Index(body, `<p role="alert">`); start >= 0 {
			if end := strings.Index(body[start:], "</p>"); end >= 0 {
				st.problems = append(st.problems, body[start:start+end+len("</p>")])
			}
		}
		return
	}
	if rec.Code != http.StatusSeeOther {
		return
	}
	loc, _, _ := strings.Cut(rec.Header().Get("Location"), "#")
	if loc == StudiesPath || strings.HasPrefix(loc, StudiesPath+"?") {
		st.screen = loc
	}
}

// render renders the Studies screen, with the problems of the forms after its title.
func (st *studies) render(ctx context.Context, h http.Handler) (string, error) {
	main, err := render(ctx, h, st.screen)
	if err != nil || len(st.problems) == 0 {
		return main, err
	}
	at := strings.Index(main, "</h1>")
	if at < 0 {
		return main, nil
	}
	at += len("</h1>")
	return main[:at] + "\n" + strings.Join(st.problems, "\n") + main[at:], nil
}

// share sends what the active consents have due, and retries the withdrawals not confirmed. A
// failure is logged, not returned: the figures and screens are written all the same, the
// transmission log shows what failed, and the next run retries.
func (st *studies) share(ctx context.Context, now time.Time) {
	sum, err := st.svc.Share(ctx, now)
	if err != nil {
		slog.Warn("engine: sharing with the studies", "err", err)
	}
	if sum.Sent > 0 || sum.Withdrawals > 0 {
		slog.Info("engine: shared with the studies", "sent", sum.Sent, "withdrawals", sum.Withdrawals)
	}
}
