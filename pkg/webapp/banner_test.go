package webapp_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// holdOne is a transport to the vault's server that holds the first request to the trips'
// database once armed, until released; every other request goes through.
type holdOne struct {
	armed   atomic.Bool
	held    chan struct{} // closed when the request is held
	release chan struct{}
}

func (h *holdOne) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "timeseries") && h.armed.CompareAndSwap(true, false) {
		close(h.held)
		select {
		case <-h.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRecomputeBannerOnEveryPage: while the recompute a settings change started runs (held at
// its first read of the trips), every page shows its progress, not only the settings page; once
// it ends, no page does.
func TestRecomputeBannerOnEveryPage(t *testing.T) {
	h := &holdOne{held: make(chan struct{}), release: make(chan struct{})}
	v, err := vault.Open(t.Context(), couch.URL(t), vaulttest.Instance(t), vault.WithTransport(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, spec := range vault.ProjectDatabases() {
			_ = v.DestroyDB(context.Background(), spec.Doctype)
		}
		v.Close()
	})
	srv, c := serveVault(t, v)
	released := false
	release := func() {
		if !released {
			released = true
			close(h.release)
		}
	}
	defer release()
	h.armed.Store(true)
	if _, err := c.UpdateSettingsInBackground(t.Context(), func(s *settings.Settings) error {
		s.FactorSet = co2.ImpactCO2SetID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	<-h.held
	const banner = `id="recompute" data-progress="/api/recompute">Recalcul des chiffres de vos trajets`
	for _, path := range []string{"/", "/trips", "/analysis", "/exports", "/studies", "/settings"} {
		code, page := get(t, srv.URL+path)
		if code != http.StatusOK || strings.Count(page, banner) != 1 {
			t.Errorf("GET %s while recomputing: %d, %d banners, want 1", path, code, strings.Count(page, banner))
		}
	}
	release()
	if _, err := c.WaitRecompute(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/settings"} {
		if _, page := get(t, srv.URL+path); strings.Contains(page, `id="recompute"`) {
			t.Errorf("GET %s after the recompute still shows it", path)
		}
	}
}
