package engine_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// checkEngine reads the engine the bundle at dir carries in its service (services/coach.js,
// brotli-compressed in base64, decoded here by Node.js as the service decodes it) and fails the
// test when it links SQLite: a Cozy app's service reaches its vault only through the stack, and
// the embedded driver would add a third to the bundle's size (package.sh builds it with the tag
// novaultfile, and the web app takes no offline maps there). Go keeps every function's package
// path in the binary, even stripped.
func checkEngine(t *testing.T, dir string) {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(dir, "services", "coach.js"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const ENGINE = '([A-Za-z0-9+/=]+)'`).FindSubmatch(js)
	if m == nil {
		t.Fatal("services/coach.js carries no engine")
	}
	cmd := exec.Command("node", "-e", `process.stdout.write(require("zlib").brotliDecompressSync(Buffer.from(require("fs").readFileSync(0, "utf8"), "base64")))`)
	cmd.Stdin = bytes.NewReader(m[1])
	bin, err := cmd.Output()
	if err != nil {
		t.Fatalf("decode the engine: %v", err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) || !bytes.Contains(bin, []byte("github.com/coachco2/coachco2/cozyapp/engine")) {
		t.Fatal("the service's engine is not the engine's binary")
	}
	if bytes.Contains(bin, []byte("modernc.org/sqlite")) {
		t.Error("the engine links SQLite (modernc.org/sqlite): build it with -tags novaultfile, and give the web app no offline maps")
	}
}
