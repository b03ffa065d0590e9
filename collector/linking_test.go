package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestParticipantProgramsDoNotLinkTheCollector: the participant's programs (app, connector) never
// link the collector nor its PostgreSQL driver (docs/collector-api.md): they talk to collectors
// over HTTP only, with the types of pkg/study.
func TestParticipantProgramsDoNotLinkTheCollector(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the programs' dependencies: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "../app", "../connector")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "github.com/coachco2/coachco2/pkg/study") {
		t.Fatalf("go list -deps lists %d packages, without pkg/study: not the programs' dependencies", len(deps))
	}
	for _, d := range deps {
		if d == "github.com/coachco2/coachco2/pkg/collector" || strings.HasPrefix(d, "github.com/coachco2/coachco2/pkg/collector/") ||
			strings.HasPrefix(d, "github.com/jackc/") {
			t.Errorf("app or connector links %s", d)
		}
	}
}
