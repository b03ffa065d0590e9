package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coachco2/coachco2/pkg/study"
)

// The remote doctypes of the coach installed in a Cozy. An app in a Cozy reaches the outside only
// through its stack's /remote/:doctype (cozy-stack docs/remote.md), each remote doctype being one
// request template with a fixed host, GET or POST, which the stack reads from its doctypes folder
// (`cozy-stack serve --doctypes`) or cozy/cozy-doctypes, and logs in io.cozy.remote.requests.
// A territory's stack defines them for its collector ([RemoteRequests]); the app's manifest
// declares their permissions.
const (
	// RemoteContributions POSTs a batch: variables study (the id) and batch (the JSON body).
	RemoteContributions = "org.coachco2.collector.contributions"
	// RemoteWithdrawal POSTs a withdrawal (the collector's POST .../withdrawal, since a remote
	// doctype cannot DELETE): variables study and pseudonym.
	RemoteWithdrawal = "org.coachco2.collector.withdrawal"
	// RemoteStudy GETs a study's descriptor: variable study.
	RemoteStudy = "org.coachco2.collector.study"
)

// RemoteRequests returns the request files of the three remote doctypes for the collector at
// collectorURL (doctype -> the content of DOCTYPES/<doctype>/request): the stack injects a path
// variable escaped and the batch as it is, so the collector receives exactly the batch the
// transmission log keeps.
func RemoteRequests(collectorURL string) (map[string]string, error) {
	if err := study.CheckCollectorURL(collectorURL); err != nil {
		return nil, err
	}
	base := strings.TrimRight(collectorURL, "/") + "/studies/{{study}}"
	return map[string]string{
		RemoteContributions: "POST " + base + "/contributions\nContent-Type: application/json\nAccept: application/json\n\n{{batch}}",
		RemoteWithdrawal:    "POST " + base + "/participants/{{pseudonym}}/withdrawal\nAccept: application/json\n",
		RemoteStudy:         "GET " + base + "\nAccept: application/json\n",
	}, nil
}

// CozyRemote sends the sharing's requests through a Cozy stack's remote doctypes, with a token
// holding the app's permissions (the service's COZY_CREDENTIALS): nothing leaves but through the
// stack, which logs every request.
type CozyRemote struct {
	// StackURL is the instance's URL (COZY_URL).
	StackURL string
	Token    string
	Client   *http.Client
}

// Route implements [Transport]: the collector's route the remote doctype's request reaches, via
// the stack's /remote.
func (c CozyRemote) Route(r Request) Route {
	if r.Kind == KindWithdrawal {
		return Route{Method: http.MethodPost, URL: r.Study.ParticipantURL(r.Pseudonym) + "/withdrawal", Via: "/remote/" + RemoteWithdrawal}
	}
	return Route{Method: http.MethodPost, URL: r.Study.ContributionsURL(), Via: "/remote/" + RemoteContributions}
}

// Send implements [Transport]: POST /remote/:doctype with the variables as a JSON object of
// strings. The stack passes the collector's status and body on; its own failures (no request
// defined, a permission, the collector unreachable) are its JSON:API errors.
func (c CozyRemote) Send(ctx context.Context, r Request) (Answer, error) {
	vars := map[string]string{"study": r.Study.ID}
	doctype := RemoteContributions
	if r.Kind == KindWithdrawal {
		doctype = RemoteWithdrawal
		vars["pseudonym"] = r.Pseudonym
	} else {
		vars["batch"] = string(r.Body)
	}
	body, err := json.Marshal(vars)
	if err != nil {
		return Answer{}, err
	}
	return doJSON(ctx, c.client(), http.MethodPost, c.remoteURL(doctype, nil), c.Token, body)
}

// FetchStudy GETs a study's descriptor from the collector through the stack (RemoteStudy).
func (c CozyRemote) FetchStudy(ctx context.Context, id string) ([]byte, error) {
	if !study.ValidID(id) {
		return nil, fmt.Errorf("sharing: %q is not a study id (3 to 64 characters among a-z 0-9 - .)", id)
	}
	a, err := doJSON(ctx, c.client(), http.MethodGet, c.remoteURL(RemoteStudy, url.Values{"study": {id}}), c.Token, nil)
	if err != nil {
		return nil, fmt.Errorf("sharing: fetch study %s through the stack: %w", id, err)
	}
	if a.Status != http.StatusOK {
		return nil, fmt.Errorf("sharing: fetch study %s through the stack: %s", id, describe(a.Status, a.Body))
	}
	return a.Body, nil
}

func (c CozyRemote) client() *http.Client {
	if c.Client == nil {
		return http.DefaultClient
	}
	return c.Client
}

func (c CozyRemote) remoteURL(doctype string, q url.Values) string {
	u := strings.TrimRight(c.StackURL, "/") + "/remote/" + doctype
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// errNoTransport is Share's and Revoke's error without a way to reach the collectors.
var errNoTransport = errors.New("sharing: no HTTP client or transport to reach the collectors")
