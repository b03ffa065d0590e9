package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) != "" { // the test binary re-executed as the connector (interrupt_test.go)
		main()
		os.Exit(exitOK)
	}
	os.Exit(couch.Run(m))
}

// konnectorRun is one konnector job against the stack double (the Cozy stack cannot run here:
// vaulttest.CozyStack follows its documented data API and konnector contract).
type konnectorRun struct {
	stack  *vaulttest.CozyStack
	server *devserver.Server
	lines  []map[string]any
	exit   int
	// firstWindow is the span of the first find_entries request read by write time.
	firstWindow float64
}

func runJob(t *testing.T, token string, faults devserver.Faults, timeLimit, parameters string) *konnectorRun {
	t.Helper()
	ctx := context.Background()
	manifest, err := os.ReadFile("manifest.konnector")
	if err != nil {
		t.Fatal(err)
	}
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), manifest)
	srv := sampleDevserver(t, 3, "sample-user", sampleData(t))
	if err := srv.SetFaults(faults); err != nil {
		t.Fatal(err)
	}
	run := &konnectorRun{stack: stack, server: srv}
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/datastreams/find_entries") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var q struct {
				Start   float64 `json:"start_time"`
				End     float64 `json:"end_time"`
				KeyTime string  `json:"key_time"`
			}
			if json.Unmarshal(body, &q) == nil && (q.KeyTime == "" || q.KeyTime == "metadata.write_ts") {
				mu.Lock()
				if run.firstWindow == 0 {
					run.firstWindow = q.End - q.Start
				}
				mu.Unlock()
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)

	// The account, as Harvest creates it from the manifest's fields.
	id := stack.CreateAccount(t, map[string]any{"account_type": accounts.Slug,
		"auth": map[string]any{"login": "pixel", "password": token, "serverUrl": hs.URL}})
	envs := map[string]string{
		"COZY_URL":         stack.URL,
		"COZY_CREDENTIALS": stack.Token,
		"COZY_FIELDS":      `{"konnector": "` + accounts.Slug + `", "account": "` + id + `", "folder_to_save": "x"}`,
		"COZY_PARAMETERS":  parameters,
		"COZY_TIME_LIMIT":  timeLimit,
	}
	var out bytes.Buffer
	run.exit = runKonnector(ctx, func(k string) string { return envs[k] }, &out)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stdout line %q is not JSON: the stack reads one JSON object per line", sc.Text())
		}
		if _, ok := line["type"]; !ok || line["message"] == nil {
			t.Fatalf("stdout line %q lacks type or message", sc.Text())
		}
		run.lines = append(run.lines, line)
		if strings.Contains(sc.Text(), token) && token != "" {
			t.Fatalf("the token appears on stdout: %s", sc.Text())
		}
	}
	return run
}

// critical returns the job's error code: the last critical message, else "".
func (r *konnectorRun) critical() string {
	code := ""
	for _, l := range r.lines {
		if l["type"] == "critical" {
			code = l["message"].(string)
		}
	}
	return code
}

func (r *konnectorRun) trips(t *testing.T) int {
	t.Helper()
	v, err := vault.OpenCozy(context.Background(), r.stack.URL, r.stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, _ := v.DB(context.Background(), vault.DoctypeTrips)
	n, err := db.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestKonnectorSyncs(t *testing.T) {
	r := runJob(t, "sample-user", devserver.Faults{}, "600", "null")
	if r.exit != 0 || r.critical() != "" {
		t.Fatalf("exit %d, critical %q, lines %v", r.exit, r.critical(), r.lines)
	}
	if n := r.trips(t); n != 76 {
		t.Fatalf("%d trips in the instance, want 76", n)
	}
	if r.stack.RequestCount("PUT io.cozy.accounts") == 0 {
		t.Fatal("the cursor was not saved in the account")
	}
}

func TestKonnectorLoginFailed(t *testing.T) {
	r := runJob(t, "unknown-token", devserver.Faults{}, "", "null")
	if r.critical() != "LOGIN_FAILED" || r.exit == 0 {
		t.Fatalf("exit %d, critical %q, want LOGIN_FAILED", r.exit, r.critical())
	}
	if n := r.trips(t); n != 0 {
		t.Fatalf("%d trips written after a refused token", n)
	}
}

func TestKonnectorVendorDown(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the client's retries")
	}
	r := runJob(t, "sample-user", devserver.Faults{FailRate: 1}, "", "null")
	if r.critical() != "VENDOR_DOWN" || r.exit == 0 {
		t.Fatalf("exit %d, critical %q, want VENDOR_DOWN", r.exit, r.critical())
	}
}

func TestKonnectorEnvErrors(t *testing.T) {
	var out bytes.Buffer
	code := runKonnector(context.Background(), func(k string) string {
		return map[string]string{"COZY_URL": "http://127.0.0.1:1/", "COZY_CREDENTIALS": "x", "COZY_FIELDS": "{not json"}[k]
	}, &out)
	if code == 0 || !strings.Contains(out.String(), `"critical"`) || !strings.Contains(out.String(), "UNKNOWN_ERROR") {
		t.Fatalf("malformed COZY_FIELDS: exit %d, output %s", code, out.String())
	}
}

// TestKonnectorUsesItsParameters: COZY_PARAMETERS, the manifest's parameters, sets the first
// sync window: with syncWindowDays 1 the first read of the server spans one day, not the default.
func TestKonnectorUsesItsParameters(t *testing.T) {
	firstWindow := func(parameters string) float64 {
		r := runJob(t, "sample-user", devserver.Faults{}, "600", parameters)
		if r.exit != 0 || r.critical() != "" {
			t.Fatalf("COZY_PARAMETERS %s: exit %d, critical %q", parameters, r.exit, r.critical())
		}
		return r.firstWindow
	}
	byDefault, day := firstWindow("null"), firstWindow(`{"syncWindowDays": 1, "secret": "from the account type"}`)
	if day != 24*3600 || byDefault <= day {
		t.Fatalf("first window: %v s by default, %v s with syncWindowDays 1; want one day with the parameter, more without", byDefault, day)
	}
}
