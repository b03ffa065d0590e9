package sharing_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// remoteApp installs, in a stack double whose remote doctypes reach col, an app with the
// permissions of the remote doctypes given (doctype -> verb), and returns the stack and the
// app's token.
func remoteApp(t *testing.T, col *collectorEnv, perms map[string]string) (*vaulttest.CozyStack, string) {
	t.Helper()
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	reqs, err := sharing.RemoteRequests(col.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	stack.RemoteDoctypes = reqs
	stack.RemoteAllowCustomPort = true // the test collector listens on a custom port
	m := map[string]any{}
	for doctype, verb := range perms {
		m[doctype] = map[string]any{"type": doctype, "verbs": []string{verb}}
	}
	manifest, _ := json.Marshal(map[string]any{"permissions": m})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.webapp"), manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return stack, stack.InstallApp(t, "coach", dir).Token
}

// stackLog is the stack's log of the /remote requests, io.cozy.remote.requests.
func stackLog(t *testing.T, stack *vaulttest.CozyStack) []struct {
	Doctype   string            `json:"doctype"`
	Verb      string            `json:"verb"`
	URL       string            `json:"url"`
	Code      int               `json:"response_code"`
	Variables map[string]string `json:"variables"`
} {
	t.Helper()
	v, err := vault.OpenCozy(t.Context(), stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := v.DB(t.Context(), "io.cozy.remote.requests")
	if err != nil {
		t.Fatal(err)
	}
	type entry = struct {
		Doctype   string            `json:"doctype"`
		Verb      string            `json:"verb"`
		URL       string            `json:"url"`
		Code      int               `json:"response_code"`
		Variables map[string]string `json:"variables"`
	}
	all, err := vault.FindAll[entry](t.Context(), db, vault.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(e entry) bool { return e.Doctype == "" })
}

// TestShareThroughCozyRemote: with the CozyRemote transport, the study comes from the collector
// through the stack's GET remote doctype, the contributions go through its POST one and the
// withdrawal through the POST .../withdrawal one; the collector stores, then deletes; the
// transmission log and the stack's log of /remote requests show the same bytes; and the app's
// process connects to nothing but the stack.
func TestShareThroughCozyRemote(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 5, study.CO2Monthly, study.DistanceMonthlyByMode)
	col.register(t, raw)
	stack, token := remoteApp(t, col, map[string]string{
		sharing.RemoteStudy: "GET", sharing.RemoteContributions: "POST", sharing.RemoteWithdrawal: "POST"})
	stackURL, err := url.Parse(stack.URL)
	if err != nil {
		t.Fatal(err)
	}
	var remote sharing.CozyRemote
	p := newParticipantWith(t, 300, func(g *netguard.Guard) sharing.Transport {
		// The app's connections may reach the stack only.
		if err := g.SetAllowed("stack", []string{stackURL.Host}); err != nil {
			t.Fatal(err)
		}
		remote = sharing.CozyRemote{StackURL: stack.URL, Token: token, Client: &http.Client{Transport: g.Transport()}}
		return remote
	})
	fetched, err := remote.FetchStudy(ctx, studyID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.AddStudy(ctx, fetched); err != nil {
		t.Fatal(err)
	}
	c, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.svc.Share(ctx, now)
	if err != nil || sum.Sent == 0 {
		t.Fatalf("share: %v %+v", err, sum)
	}
	if n := col.count(t, studyID); n != sum.Sent {
		t.Fatalf("the collector holds %d contributions, the summary says %d sent", n, sum.Sent)
	}
	log := p.log(t)
	if len(log) != 1 || log[0].Via != "/remote/"+sharing.RemoteContributions || log[0].Method != http.MethodPost ||
		log[0].URL != col.ts.URL+"/studies/"+studyID+"/contributions" || !log[0].OK {
		t.Fatalf("the transmission log: %+v", log)
	}
	checkPayload(t, log[0].Payload, []study.MeasureID{study.CO2Monthly})
	stacked := stackLog(t, stack)
	if len(stacked) != 2 {
		t.Fatalf("the stack logged %d /remote requests, want the study's GET and one POST: %+v", len(stacked), stacked)
	}
	for _, e := range stacked {
		switch e.Doctype {
		case sharing.RemoteStudy:
		case sharing.RemoteContributions:
			if e.Variables["batch"] != log[0].Payload || e.Code != http.StatusOK {
				t.Fatalf("the stack logged another batch than the transmission log:\n%s\n%s", e.Variables["batch"], log[0].Payload)
			}
		default:
			t.Fatalf("the stack logged %+v", e)
		}
	}

	if err := p.svc.Revoke(ctx, studyID); err != nil {
		t.Fatal(err)
	}
	if n := col.count(t, studyID); n != 0 {
		t.Fatalf("the collector holds %d contributions after the withdrawal", n)
	}
	log = p.log(t)
	if log[0].Kind != sharing.KindWithdrawal || log[0].Via != "/remote/"+sharing.RemoteWithdrawal || log[0].Method != http.MethodPost ||
		!strings.HasSuffix(log[0].URL, "/participants/"+c.Pseudonym+"/withdrawal") || !log[0].OK {
		t.Fatalf("the withdrawal's log: %+v", log[0])
	}
	if cs, _ := p.svc.Consents(ctx); len(cs) != 1 || cs[0].WithdrawnAt == nil {
		t.Fatalf("the consent after the withdrawal: %+v", cs)
	}
	if got := len(stackLog(t, stack)); got != 3 {
		t.Fatalf("the stack logged %d /remote requests, want 3", got)
	}
	if st := p.guard.Stats(); st.Blocked != 0 {
		t.Fatalf("the app tried to connect elsewhere than the stack: %+v", st)
	}
}

// TestCozyRemoteWithoutPermission: without the permission on the withdrawal's remote doctype the
// stack refuses it (403): the consent stays revoked, nothing more is sent, and the withdrawal
// is pending, as when a collector cannot be reached.
func TestCozyRemoteWithoutPermission(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 5, study.CO2Monthly)
	col.register(t, raw)
	stack, token := remoteApp(t, col, map[string]string{sharing.RemoteContributions: "POST"})
	p := newParticipantWith(t, 100, func(*netguard.Guard) sharing.Transport {
		return sharing.CozyRemote{StackURL: stack.URL, Token: token}
	})
	if _, err := p.svc.AddStudy(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := (sharing.CozyRemote{StackURL: stack.URL, Token: token}).FetchStudy(ctx, studyID); err == nil {
		t.Fatal("the study fetched without the permission on its remote doctype")
	}
	if _, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Share(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := p.svc.Revoke(ctx, studyID); err == nil {
		t.Fatal("the withdrawal passed without the permission on its remote doctype")
	}
	if n := col.count(t, studyID); n == 0 {
		t.Fatal("the collector deleted the data without a withdrawal")
	}
	cs, _ := p.svc.Consents(ctx)
	if len(cs) != 1 || !cs[0].Revoked() || cs[0].WithdrawnAt != nil {
		t.Fatalf("the consent: %+v", cs)
	}
	if log := p.log(t); log[0].Kind != sharing.KindWithdrawal || log[0].Status != http.StatusForbidden || log[0].OK {
		t.Fatalf("the withdrawal's log: %+v", log[0])
	}
}
