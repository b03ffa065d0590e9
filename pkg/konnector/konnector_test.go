package konnector_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/konnector"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReadEnv(t *testing.T) {
	env, err := konnector.ReadEnv(getenv(map[string]string{
		"COZY_URL": "https://alice.example.net", "COZY_CREDENTIALS": "jwt",
		"COZY_FIELDS":     `{"konnector": "openpath", "account": "acc1", "folder_to_save": "f"}`,
		"COZY_PARAMETERS": `{"x": 1}`, "COZY_TIME_LIMIT": "300", "COZY_LOCALE": "fr",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if env.URL != "https://alice.example.net/" || env.Fields.Account != "acc1" || env.TimeLimit != 300*time.Second || env.Locale != "fr" {
		t.Fatalf("env %+v", env)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := env.Deadline(start); d != start.Add(270*time.Second) {
		t.Fatalf("deadline %v: want the limit less a 10%% margin", d)
	}
	noLimit, _ := konnector.ReadEnv(getenv(map[string]string{"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{"account": "a"}`}))
	if !noLimit.Deadline(start).IsZero() {
		t.Fatal("no COZY_TIME_LIMIT must mean no deadline, not NaN or zero time")
	}
	for name, m := range map[string]map[string]string{
		"no url":        {"COZY_CREDENTIALS": "c", "COZY_FIELDS": `{"account": "a"}`},
		"bad fields":    {"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{`},
		"no account":    {"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{}`},
		"bad limit":     {"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{"account": "a"}`, "COZY_TIME_LIMIT": "soon"},
		"bad parameter": {"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{"account": "a"}`, "COZY_PARAMETERS": "{"},
	} {
		if _, err := konnector.ReadEnv(getenv(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHandlerWritesTheStacksLines(t *testing.T) {
	var out bytes.Buffer
	h := konnector.NewHandler(&out, slog.LevelDebug)
	log := slog.New(h).With("account", "a1")
	log.Debug("d")
	log.Info("saved", "trips", 3)
	log.Warn("w")
	log.Error("e")
	if err := h.Critical(konnector.LoginFailed); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct{ Type, Message string }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON", line)
		}
		types = append(types, m.Type)
		if m.Type == "info" && m.Message != "saved account=a1 trips=3" {
			t.Errorf("info message %q", m.Message)
		}
		if m.Type == "critical" && m.Message != "LOGIN_FAILED" {
			t.Errorf("critical message %q", m.Message)
		}
	}
	if strings.Join(types, ",") != "debug,info,warning,error,critical" {
		t.Fatalf("types %v", types)
	}
}

// TestParameters: COZY_PARAMETERS is the manifest's "parameters" object; unknown members (the
// "secret" the stack adds for some account types) are ignored, a wrong one is an error.
func TestParameters(t *testing.T) {
	base := map[string]string{"COZY_URL": "u", "COZY_CREDENTIALS": "c", "COZY_FIELDS": `{"account": "a"}`}
	with := func(p string) map[string]string {
		m := map[string]string{"COZY_PARAMETERS": p}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	env, err := konnector.ReadEnv(getenv(with(`{"syncWindowDays": 3, "secret": {"k": "v"}}`)))
	if err != nil || env.Parameters.SyncWindow() != 72*time.Hour {
		t.Fatalf("syncWindowDays 3: %+v, %v", env, err)
	}
	for _, p := range []string{"null", ""} {
		if env, err := konnector.ReadEnv(getenv(with(p))); err != nil || env.Parameters.SyncWindow() != 0 {
			t.Fatalf("COZY_PARAMETERS %q: %+v, %v; want the default window", p, env, err)
		}
	}
	for _, p := range []string{`{"syncWindowDays": "7"}`, `{"syncWindowDays": -1}`, `{"syncWindowDays": 400}`, `[1]`} {
		if _, err := konnector.ReadEnv(getenv(with(p))); err == nil {
			t.Errorf("COZY_PARAMETERS %s: accepted", p)
		}
	}
}
