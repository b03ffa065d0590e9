// Package browsertest drives a real browser, Debian's Chromium headless through chromedp, for the
// app's end-to-end tests: navigate, click, fill in, read text and wait for elements, each with a
// timeout; record every network request the page makes, to prove that nothing leaves the app's
// origin; and take screenshots for review into a test output folder.
//
// Chromium is found at /usr/bin/chromium, or at $CHROMIUM. Without it a test skips, unless the
// environment variable CI is set: there it fails, since `make test` installs Chromium (the
// Makefile's chromium target).
//
// Helpers fail the test (t.Fatalf) on error or timeout, so call them from the test's goroutine.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// Timeouts: DefaultTimeout bounds each helper (see SetTimeout); StartTimeout the browser's start.
const (
	DefaultTimeout = 15 * time.Second
	StartTimeout   = 60 * time.Second
)

// OutputEnv names the environment variable that overrides the test output folder.
const OutputEnv = "COACHCO2_TEST_OUT"

// Chromium returns the path of the Chromium binary: $CHROMIUM when set, else /usr/bin/chromium,
// else chromium on the PATH. When there is none it skips the test with a message saying how to
// install it, or fails it when the environment variable CI is set (other than "" , "0" or
// "false"), so that CI never passes without running the browser tests.
func Chromium(t testing.TB) string {
	t.Helper()
	return chromium(t, DefaultChromium)
}

func chromium(t testing.TB, defaultPath string) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if isExecutable(p) {
			return p
		}
		t.Fatalf("browsertest: $CHROMIUM is %q, which is not an executable file", p)
	}
	if isExecutable(defaultPath) {
		return defaultPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "browsertest: Chromium is not installed (no " + DefaultChromium + ", no chromium on the PATH, $CHROMIUM unset); " +
		"install Debian's chromium with `make chromium` (as root) or `apt-get install chromium`"
	if onCI() {
		t.Fatalf("%s. CI is set, so the real-browser test must run: `make test` installs Chromium first.", msg)
	}
	t.Skipf("%s, or set $CHROMIUM. Skipping the real-browser test.", msg)
	return ""
}

func onCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Browser is one headless Chromium with one tab, closed when the test ends.
type Browser struct {
	t       testing.TB
	base    *url.URL
	ctx     context.Context // the tab's
	timeout time.Duration
	out     *lockedBuffer // the browser's own output, shown when the test fails
	shots   int

	mu       sync.Mutex
	requests []string
	problems []string
}

// New starts a headless Chromium for the test (skipping or failing it as Chromium says when the
// browser is missing) with one tab, whose relative navigations resolve against baseURL.
//
// The browser runs with --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
// --disable-background-networking --disable-component-update --disable-sync
// --disable-default-apps, chromedp's other quiet defaults, a window of 1280×900, and a fresh
// temporary --user-data-dir that chromedp creates and removes. Its host resolver answers only for
// localhost and baseURL's host: a request to any other host is recorded (see Requests and
// Foreign) but fails at once, so a test never reaches out nor waits on a network.
func New(t testing.TB, baseURL string) *Browser {
	t.Helper()
	base, err := url.Parse(baseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		t.Fatalf("browsertest: base URL %q is not an absolute URL (%v)", baseURL, err)
	}
	path := Chromium(t)
	b := &Browser{t: t, base: base, timeout: DefaultTimeout, out: &lockedBuffer{}}

	rules := "MAP * ~NOTFOUND, EXCLUDE localhost"
	if h := base.Hostname(); h != "localhost" {
		rules += ", EXCLUDE " + h
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("host-resolver-rules", rules),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(b.out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.record),
		chromedp.WithLogf(b.logf), chromedp.WithErrorf(b.logf))
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		if t.Failed() {
			if out := b.out.tail(8 << 10); out != "" {
				t.Logf("browsertest: the end of Chromium's output:\n%s", out)
			}
			if p := b.Problems(); len(p) > 0 {
				t.Logf("browsertest: the page's errors:\n%s", strings.Join(p, "\n"))
			}
		}
	})

	// The first action starts the browser, tied to ctx for its whole life: it must not run under
	// a context that a timeout cancels, so the start is bounded here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(StartTimeout):
		err = fmt.Errorf("no answer within %v", StartTimeout)
	}
	if err != nil {
		t.Fatalf("browsertest: starting %s: %v\n%s", path, err, b.out.tail(4<<10))
	}
	return b
}

// record keeps what the tab reports: the URL of every request and WebSocket it opens, and its
// errors. It runs in chromedp's event loop, so it only appends.
func (b *Browser) record(ev any) {
	var req, problem string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			req = ev.Request.URL + ev.Request.URLFragment
		}
	case *network.EventWebSocketCreated:
		req = ev.URL
	case *runtime.EventExceptionThrown:
		if d := ev.ExceptionDetails; d != nil {
			problem = "uncaught exception: " + d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				problem += " " + d.Exception.Description
			}
			if d.URL != "" {
				problem += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
			}
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				switch {
				case a.Description != "":
					args = append(args, a.Description)
				case len(a.Value) > 0:
					args = append(args, strings.Trim(string(a.Value), `"`))
				}
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
		}
	case *log.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
			problem = string(e.Source) + ": " + e.Text
			if e.URL != "" {
				problem += " (" + e.URL + ")"
			}
		}
	}
	if req == "" && problem == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if req != "" {
		b.requests = append(b.requests, req)
	}
	if problem != "" {
		b.problems = append(b.problems, problem)
	}
}

// logf keeps chromedp's own messages with the browser's output.
func (b *Browser) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "chromedp: "+format+"\n", args...)
}

// Requests returns the URL of every request the page made so far, in order: documents, scripts,
// styles, images, fetches, WebSockets, redirects (each hop), including those that failed or that
// the Content-Security-Policy blocked.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// Foreign returns the requests made so far to anything but origin (scheme, host and port, as
// "http://127.0.0.1:8080"; a URL stands for its origin, and "" for the base URL's). data:, blob:
// and about: URLs, which never leave the browser, are not counted.
func (b *Browser) Foreign(origin string) []string {
	want := originOf(b.base)
	if origin != "" {
		u, err := url.Parse(origin)
		if err != nil {
			b.t.Fatalf("browsertest: origin %q: %v", origin, err)
		}
		want = originOf(u)
	}
	var out []string
	for _, r := range b.Requests() {
		u, err := url.Parse(r)
		if err != nil {
			out = append(out, r)
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "data", "blob", "about":
			continue
		}
		if originOf(u) != want {
			out = append(out, r)
		}
	}
	return out
}

// Problems returns the page's errors so far: uncaught exceptions, console.error and
// console.assert calls, and the browser's error log (failed loads, Content-Security-Policy
// violations).
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// originOf is u's origin, scheme://host[:port], with the scheme's default port left out.
func originOf(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") || (scheme == "ws" && port == "80") || (scheme == "wss" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// SetTimeout sets how long each later helper may take (DefaultTimeout at first).
func (b *Browser) SetTimeout(d time.Duration) { b.timeout = d }

// Context returns the tab's chromedp context, for chromedp actions the helpers do not offer:
// chromedp.Run(b.Context(), ...). Bound them with a timeout of a context derived from it.
func (b *Browser) Context() context.Context { return b.ctx }

// URL resolves a path (or an absolute URL) against the base URL.
func (b *Browser) URL(path string) string {
	ref, err := url.Parse(path)
	if err != nil {
		b.t.Fatalf("browsertest: URL %q: %v", path, err)
	}
	return b.base.ResolveReference(ref).String()
}

// do runs chromedp steps under the helper timeout, failing the test with what on error.
func (b *Browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

// run is do for an action with a value. Methods cannot have type parameters, hence a function.
func run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail fails the test, with a screenshot of the page as it was, for the review.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v: %w", b.timeout, err)
	}
	shot := ""
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	b.shots++
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		if p, werr := b.writePNG(fmt.Sprintf("failed-%d", b.shots), png); werr == nil {
			shot = "\nscreenshot: " + p
		}
	}
	b.t.Fatalf("browsertest: %s: %v%s", what, err, shot)
}

// Navigate loads path (resolved against the base URL) and waits for its load event. It fails
// the test when the page does not load or answers with an HTTP status of 400 or more.
func (b *Browser) Navigate(path string) {
	b.t.Helper()
	u := b.URL(path)
	resp := run(b, "navigate to "+u, chromedp.NavigateResponse(u))
	if resp != nil && resp.Status >= 400 {
		b.t.Fatalf("browsertest: navigate to %s: HTTP %d %s", u, resp.Status, resp.StatusText)
	}
}

// Location returns the URL of the page.
func (b *Browser) Location() string {
	b.t.Helper()
	return run(b, "location", chromedp.Location())
}

// Click clicks the first element matching the CSS selector, once it is visible.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.do("click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// Text returns the visible text (innerText) of the first element matching the CSS selector,
// once it is in the page.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return run(b, "text of "+selector, chromedp.Text(chromedp.CSS(selector)))
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.do("wait for "+selector+" to be visible", chromedp.WaitVisible(chromedp.CSS(selector)))
}

// WaitGone waits until no element matches the CSS selector.
func (b *Browser) WaitGone(selector string) {
	b.t.Helper()
	b.do("wait for "+selector+" to go", chromedp.WaitNotPresent(chromedp.CSS(selector)))
}

// WaitText waits until the text of the first element matching the CSS selector contains want,
// and returns that text: for a figure that changes after an action.
func (b *Browser) WaitText(selector, want string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.PollFunction[string](`(sel, want) => {
		const e = document.querySelector(sel);
		return e && e.innerText.includes(want) ? e.innerText : null;
	}`, chromedp.WithPollingArgs(selector, want), chromedp.WithPollingTimeout(0)))
	if err != nil {
		b.fail(fmt.Sprintf("wait for %s to contain %q (it reads %q)", selector, want, b.peekText(selector)), err)
	}
	return text
}

// peekText is the element's text now, or "" — for error messages; it never fails the test.
func (b *Browser) peekText(selector string) string {
	ctx, cancel := context.WithTimeout(b.ctx, time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[*string](fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e ? e.innerText : null; })()`, jsString(selector))))
	if s == nil {
		return ""
	}
	return *s
}

// SetValue sets the value of the first input, textarea or select matching the CSS selector, and
// fires the input and change events a person's edit fires.
func (b *Browser) SetValue(selector, value string) {
	b.t.Helper()
	b.do(fmt.Sprintf("set %s to %q", selector, value),
		chromedp.WaitVisible(chromedp.CSS(selector)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const e = document.querySelector(%s);
			e.focus();
			e.value = %s;
			if (e.value !== %[2]s) throw new Error("no such value: " + %[2]s);
			e.dispatchEvent(new Event("input", {bubbles: true}));
			e.dispatchEvent(new Event("change", {bubbles: true}));
		})()`, jsString(selector), jsString(value))))
}

// SendKeys types keys into the first element matching the CSS selector, as a person would.
func (b *Browser) SendKeys(selector, keys string) {
	b.t.Helper()
	b.do("type into "+selector, chromedp.SendKeys(chromedp.CSS(selector), keys))
}

// SetViewport resizes the page's viewport, in CSS pixels: 390×844 shows the phone layout.
func (b *Browser) SetViewport(width, height int) {
	b.t.Helper()
	b.do(fmt.Sprintf("set the viewport to %d×%d", width, height), chromedp.EmulateViewport(int64(width), int64(height)))
}

// Evaluate runs a JavaScript expression in the page, awaiting it when it is a promise, and
// decodes its value into T (use chromedp.Void to drop it).
func Evaluate[T any](b *Browser, expression string) T {
	b.t.Helper()
	return run(b, "evaluate "+expression, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

// Screenshot writes a PNG of the whole page to the test output folder as name.png and returns
// its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	p, err := b.writePNG(name, png)
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	return p
}

func (b *Browser) writePNG(name string, png []byte) (string, error) {
	dir, err := outputDir(b.t)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, safeName(strings.TrimSuffix(name, ".png"))+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		return "", fmt.Errorf("write screenshot: %w", err)
	}
	return p, nil
}

// OutputDir returns the test's output folder, created if needed: $COACHCO2_TEST_OUT, else
// testout/ at the root of the module (the folder holding go.mod; it is gitignored), then a
// folder named after the test.
func OutputDir(t testing.TB) string {
	t.Helper()
	dir, err := outputDir(t)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return dir
}

func outputDir(t testing.TB) (string, error) {
	root := os.Getenv(OutputEnv)
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("test output folder: %w", err)
		}
		mod := wd
		for {
			if _, err := os.Stat(filepath.Join(mod, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(mod)
			if parent == mod {
				return "", fmt.Errorf("test output folder: no go.mod above %s; set $%s", wd, OutputEnv)
			}
			mod = parent
		}
		root = filepath.Join(mod, "testout")
	}
	dir := filepath.Join(root, safeName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("test output folder: %w", err)
	}
	return dir, nil
}

// safeName keeps letters, digits, '.', '-' and '_' of a name, for a file name; subtests' '/'
// become '_' too.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		b = append([]byte("_"), b...)
	}
	return string(b)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// lockedBuffer is a bounded, concurrency-safe log of the browser's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const maxOutput = 256 << 10

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > maxOutput {
		l.buf = slices.Clone(l.buf[len(l.buf)-maxOutput/2:])
	}
	return len(p), nil
}

// tail returns the last n bytes written, without the lines about D-Bus, which a container
// has none of.
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keep []string
	for _, line := range strings.Split(string(l.buf), "\n") {
		if !strings.Contains(line, ":ERROR:dbus/") {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, "\n")
	return s[max(0, len(s)-n):]
}
