package sharing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
)

// Request is one request of the sharing to a study's collector: a batch of contributions, or a
// withdrawal of a pseudonym's data.
type Request struct {
	// Kind is KindContributions or KindWithdrawal.
	Kind  string
	Study *study.Descriptor
	// Pseudonym is the withdrawn pseudonym (a withdrawal).
	Pseudonym string
	// Body is the batch (contributions): what the collector receives, byte for byte.
	Body []byte
}

// Route is where a request goes, as the transmission log shows it.
type Route struct {
	// Method and URL are the collector's route the request reaches (docs/collector-api.md).
	Method, URL string
	// Via names what carries it when the app does not reach the collector itself (the Cozy
	// stack's remote doctype); empty for a direct request.
	Via string
}

// Answer is a collector's answer to one attempt.
type Answer struct {
	Status int
	Body   []byte
	// RetryAfter is the pause the answer asks for (Retry-After), 0 when none.
	RetryAfter time.Duration
}

// Transport carries the sharing's requests to the collectors: directly over HTTPS from the
// self-hosted app (through its network guard), or through a Cozy stack's remote doctypes from the
// app installed in a Cozy. The service retries, logs and reads the answers the same way over
// either.
type Transport interface {
	// Route says where the request goes.
	Route(r Request) Route
	// Send makes one attempt; an error means no answer came.
	Send(ctx context.Context, r Request) (Answer, error)
}

// HTTPTransport sends the requests straight to the collectors with Client: POST the batches to
// the study's contributions, DELETE the participant to withdraw.
type HTTPTransport struct {
	// Client should go through the app's network guard.
	Client *http.Client
}

// Route implements [Transport].
func (h HTTPTransport) Route(r Request) Route {
	if r.Kind == KindWithdrawal {
		return Route{Method: http.MethodDelete, URL: r.Study.ParticipantURL(r.Pseudonym)}
	}
	return Route{Method: http.MethodPost, URL: r.Study.ContributionsURL()}
}

// Send implements [Transport].
func (h HTTPTransport) Send(ctx context.Context, r Request) (Answer, error) {
	rt := h.Route(r)
	var body []byte
	if r.Kind != KindWithdrawal {
		body = r.Body
	}
	return doJSON(ctx, h.Client, rt.Method, rt.URL, "", body)
}

// doJSON sends one request with a JSON body (none when body is nil) and reads the answer, with
// token as a bearer when given.
func doJSON(ctx context.Context, client *http.Client, method, url, token string, body []byte) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return Answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	a := Answer{Status: resp.StatusCode}
	if a.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return a, fmt.Errorf("read the answer: %w", err)
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		a.RetryAfter = time.Duration(secs) * time.Second
	}
	return a, nil
}
