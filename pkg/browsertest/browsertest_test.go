package browsertest

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coachco2/coachco2/pkg/tbtest"
)

const external = "http://external.example/pixel.png"

// page is a tiny app: a same-origin script that fills the page in and reacts to a click and a
// select, an inline data: image, and an external image that must show up as foreign.
func page(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>browsertest</title></head><body>
<h1 id="status">loading</h1>
<p>Clicks: <span id="count">0</span></p>
<button id="more" type="button">More</button>
<select id="mode"><option value="WALKING">walking</option><option value="BICYCLING">bike</option></select>
<p id="chosen">WALKING</p>
<input id="name" type="text">
<img alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img id="ext" alt="" src="`+external+`">
<script src="/app.js"></script>
</body></html>`)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `
document.getElementById("status").textContent = "script ran";
document.getElementById("more").addEventListener("click", () => {
	// Later, as a page that asks its server first.
	setTimeout(() => {
		const c = document.getElementById("count");
		c.textContent = String(Number(c.textContent) + 1);
	}, 200);
});
document.getElementById("mode").addEventListener("change", (e) => {
	document.getElementById("chosen").textContent = e.target.value;
});
console.error("boom from app.js");
`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowser(t *testing.T) {
	t.Setenv(OutputEnv, t.TempDir())
	srv := page(t)
	b := New(t, srv.URL)

	b.Navigate("/")
	b.WaitVisible("#more")
	if got := b.WaitText("#status", "script ran"); got != "script ran" {
		t.Errorf("status %q", got)
	}
	if got := b.Text("h1"); got != "script ran" {
		t.Errorf("Text(h1) = %q", got)
	}
	b.Click("#more")
	b.WaitText("#count", "1")
	b.SetValue("#mode", "BICYCLING")
	b.WaitText("#chosen", "BICYCLING")
	b.SendKeys("#name", "Ada")
	if got := Evaluate[string](b, `document.querySelector("#name").value`); got != "Ada" {
		t.Errorf("typed %q", got)
	}
	if got := Evaluate[int](b, `Promise.resolve(6 * 7)`); got != 42 {
		t.Errorf("Evaluate awaited %d", got)
	}
	if loc := b.Location(); loc != srv.URL+"/" {
		t.Errorf("location %s", loc)
	}

	reqs := b.Requests()
	for _, want := range []string{srv.URL + "/", srv.URL + "/app.js", external} {
		if !slices.Contains(reqs, want) {
			t.Errorf("no request to %s in %q", want, reqs)
		}
	}
	if !slices.ContainsFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "data:") }) {
		t.Logf("no data: request recorded (Chromium does not always report them): %q", reqs)
	}
	for _, origin := range []string{srv.URL, srv.URL + "/some/page?x=1", ""} {
		if got := b.Foreign(origin); !slices.Equal(got, []string{external}) {
			t.Errorf("Foreign(%q) = %q, want just the external image", origin, got)
		}
	}
	if got := b.Foreign("http://external.example:80"); slices.Contains(got, external) || !slices.Contains(got, srv.URL+"/app.js") {
		t.Errorf("Foreign(external) = %q", got)
	}
	if p := b.Problems(); !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, "boom from app.js") }) {
		t.Errorf("problems %q, want the console.error", p)
	}

	path := b.Screenshot("page")
	if path != filepath.Join(os.Getenv(OutputEnv), "TestBrowser", "page.png") {
		t.Errorf("screenshot at %s", path)
	}
	b.SetViewport(390, 844)
	phone := b.Screenshot("page-phone.png")
	for p, wantW := range map[string]int{path: 1280, phone: 390} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if w := img.Bounds().Dx(); w != wantW {
			t.Errorf("%s is %d pixels wide, want %d", p, w, wantW)
		}
	}
}

func TestChromiumMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CHROMIUM", "")
	for _, ci := range []string{"", "false", "true"} {
		t.Setenv("CI", ci)
		r := &tbtest.Recorder{TB: t}
		got := "returned"
		fatal, skip := r.Run(func() { got = chromium(r, "/nonexistent/chromium") })
		switch {
		case ci == "true" && !strings.Contains(fatal, "CI is set"):
			t.Errorf("CI=%q: fatal %q, skip %q, %s; want a failure", ci, fatal, skip, got)
		case ci != "true" && !strings.Contains(skip, "apt-get install chromium"):
			t.Errorf("CI=%q: fatal %q, skip %q, %s; want a skip", ci, fatal, skip, got)
		}
	}
	t.Setenv("CHROMIUM", "/nonexistent/chrome")
	r := &tbtest.Recorder{TB: t}
	if fatal, skip := r.Run(func() { chromium(r, "/nonexistent/chromium") }); !strings.Contains(fatal, "/nonexistent/chrome") {
		t.Errorf("a wrong $CHROMIUM: fatal %q, skip %q", fatal, skip)
	}
}

// TestHelpersFail: a helper that times out or meets a bad page fails the test with a clear
// message and a screenshot.
func TestHelpersFail(t *testing.T) {
	out := t.TempDir()
	t.Setenv(OutputEnv, out)
	srv := page(t)
	r := &tbtest.Recorder{TB: t}
	var b *Browser
	if fatal, skip := r.Run(func() { b = New(r, srv.URL) }); fatal != "" || skip != "" {
		t.Fatalf("New: %s%s", fatal, skip)
	}
	b.Navigate("/")
	b.SetTimeout(700 * time.Millisecond)

	start := time.Now()
	fatal, _ := r.Run(func() { b.WaitVisible("#never") })
	if !strings.Contains(fatal, "wait for #never to be visible: timed out after 700ms") || !strings.Contains(fatal, "screenshot: "+out) {
		t.Errorf("fatal %q", fatal)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	if fatal, _ := r.Run(func() { b.WaitText("#status", "never") }); !strings.Contains(fatal, `wait for #status to contain "never" (it reads "script ran")`) {
		t.Errorf("fatal %q", fatal)
	}
	b.SetTimeout(DefaultTimeout)
	if fatal, _ := r.Run(func() { b.Navigate("/missing") }); !strings.Contains(fatal, "HTTP 404") {
		t.Errorf("fatal %q", fatal)
	}
	b.Navigate("/")
	if fatal, _ := r.Run(func() { b.SetValue("#mode", "PLANE") }); !strings.Contains(fatal, "no such value") {
		t.Errorf("fatal %q", fatal)
	}
	shots, _ := filepath.Glob(filepath.Join(out, "TestHelpersFail", "failed-*.png"))
	if len(shots) < 2 {
		t.Errorf("failure screenshots %q", shots)
	}
	// The raw chromedp context stays usable for what the helpers do not offer.
	if _, err := chromedp.Run(b.Context(), chromedp.Title()); err != nil {
		t.Error(err)
	}
}

func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/x?y": "http://127.0.0.1:8080",
		"HTTPS://Example.org:443/":  "https://example.org",
		"http://example.org:80":     "http://example.org",
		"ws://[::1]:9000/socket":    "ws://[::1]:9000",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := originOf(u); got != want {
			t.Errorf("originOf(%s) = %s, want %s", in, got, want)
		}
	}
	if got := safeName("TestApp/dashboard phone"); got != "TestApp_dashboard_phone" {
		t.Errorf("safeName %q", got)
	}
	if got := jsString("a\"b\\c\n"); got != `"a\"b\\c\u000a"` {
		t.Errorf("jsString %s", got)
	}
}
