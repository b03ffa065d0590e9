package httpserve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/httpserve"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A request in flight when the context ends finishes (the server is shutting down by then), then
// Serve returns nil and the listener is closed.
func TestRequestInFlightFinishes(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})}
	shuttingDown := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(shuttingDown) })
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- httpserve.Serve(ctx, srv, ln, httpserve.Options{}) }()

	type answer struct {
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{string(b), err}
	}()
	<-entered
	cancel()
	<-shuttingDown
	close(release)
	if a := <-answered; a.err != nil || a.body != "done" {
		t.Fatalf("the request in flight: %q, %v; want it answered", a.body, a.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after a clean stop: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the listener still accepts connections after Serve returned")
	}
}

// A request that outlasts the grace is cut, and Serve says the shutdown did not finish.
func TestGraceRunsOut(t *testing.T) {
	ln := listen(t)
	entered := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // never finishes by itself
	})}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpserve.Serve(ctx, srv, ln, httpserve.Options{Grace: 10 * time.Millisecond})
	}()
	failed := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	<-entered
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "shutdown") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve with a request past the grace: %v, want a shutdown deadline error", err)
	}
	if err := <-failed; err == nil {
		t.Fatal("the request past the grace was answered; want its connection closed")
	}
}

// Serve reports a listener it cannot serve on, and a certificate without its key.
func TestServeErrors(t *testing.T) {
	ln := listen(t)
	ln.Close()
	if err := httpserve.Serve(t.Context(), &http.Server{}, ln, httpserve.Options{}); err == nil || !strings.HasPrefix(err.Error(), "serve: ") {
		t.Fatalf("Serve on a closed listener: %v", err)
	}
	ln = listen(t)
	err := httpserve.Serve(t.Context(), &http.Server{}, ln, httpserve.Options{CertFile: "cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("a certificate without its key: %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("the listener was left open")
	}
	ln = listen(t)
	err = httpserve.Serve(t.Context(), &http.Server{}, ln, httpserve.Options{CertFile: "missing.pem", KeyFile: "missing.key"})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing certificate: %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("the listener was left open after a certificate error")
	}
}

// With a certificate and its key, Serve speaks HTTPS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	ln := listen(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "plain HTTP", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "over TLS")
	})}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpserve.Serve(ctx, srv, ln, httpserve.Options{CertFile: certFile, KeyFile: keyFile})
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "over TLS" {
		t.Fatalf("answer %q", b)
	}
	client.CloseIdleConnections()
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve over TLS after a clean stop: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their files and a pool
// that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
