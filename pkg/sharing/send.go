package sharing

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
	"github.com/coachco2/coachco2/pkg/study"
)

// Kinds of transmissions.
const (
	KindContributions = "contributions" // POST /studies/{id}/contributions
	KindWithdrawal    = "withdrawal"    // DELETE /studies/{id}/participants/{pseudonym}, or its POST .../withdrawal
)

// maxAnswer is how much of a collector's answer the log keeps.
const maxAnswer = 16 << 10

// attemptTimeout bounds one request.
const attemptTimeout = 30 * time.Second

// Transmission is one request to a collector, as logged in io.cozy.coachco2.transmissions: what
// left the vault, when, where, and what the collector answered.
type Transmission struct {
	ID           string `json:"_id,omitempty"`
	Kind         string `json:"kind"`
	StudyID      string `json:"study_id"`
	StudyVersion int    `json:"study_version"`
	ConsentID    string `json:"consent_id"`
	Method       string `json:"method"`
	URL          string `json:"url"`
	// Via names what carried the request when the app did not reach the collector itself (the
	// Cozy stack's /remote/:doctype, which logs it too in io.cozy.remote.requests).
	Via string `json:"via,omitempty"`
	// Time is when the request was sent.
	Time time.Time `json:"time"`
	// Attempt counts the tries of the same request, from 1.
	Attempt int `json:"attempt"`
	// Payload is the exact body sent (empty for a withdrawal).
	Payload string `json:"payload,omitempty"`
	// Keys are the measures and periods of the payload's contributions.
	Keys []study.Key `json:"keys,omitempty"`
	// Status is the HTTP status of the answer (0 when none came).
	Status int `json:"status,omitempty"`
	// Answer is the collector's answer body (cut at 16 KiB).
	Answer string `json:"answer,omitempty"`
	// Error says why the request failed, when it did.
	Error string `json:"error,omitempty"`
	// OK says the collector stored the batch, or deleted the pseudonym's data.
	OK bool `json:"ok"`
}

// Transmissions returns the log, newest first.
func (s *Service) Transmissions(ctx context.Context) ([]Transmission, error) {
	out, err := allDocs(ctx, s.log, func(t Transmission) bool { return t.Kind != "" }, func(a, b Transmission) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.Attempt, a.Attempt), cmp.Compare(a.ID, b.ID))
	})
	if err != nil {
		return nil, fmt.Errorf("sharing: read the transmission log: %w", err)
	}
	return out, nil
}

// StudySummary is what Share did for one consent.
type StudySummary struct {
	StudyID      string `json:"study_id"`
	StudyVersion int    `json:"study_version"`
	// Pending is how many contributions were due.
	Pending int `json:"pending"`
	// Batches and Attempts count the batches and requests.
	Batches  int `json:"batches"`
	Attempts int `json:"attempts"`
	// Sent is how many contributions the collector stored; Created, Replaced, Unchanged split
	// them as it answered.
	Sent      int      `json:"sent"`
	Created   int      `json:"created"`
	Replaced  int      `json:"replaced"`
	Unchanged int      `json:"unchanged"`
	Dropped   []string `json:"dropped,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Summary is what Share did.
type Summary struct {
	Studies []StudySummary `json:"studies"`
	// Withdrawals counts the withdrawals the collectors confirmed during this run.
	Withdrawals int `json:"withdrawals"`
	// Sent is the total of the studies' Sent.
	Sent int `json:"sent"`
	// Errors lists what failed; Share also returns them joined.
	Errors []string `json:"errors,omitempty"`
}

// Share sends, for each active consent at now, the granted measures of the complete past
// periods not sent yet (the transmission log says which were), and retries the withdrawals the
// collectors have not confirmed. It logs every request. A failure for one study does not stop
// the others: the summary says what happened, and the error joins the failures.
func (s *Service) Share(ctx context.Context, now time.Time) (Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum Summary
	var errs []error
	fail := func(err error) {
		errs = append(errs, err)
		sum.Errors = append(sum.Errors, err.Error())
	}
	consents, err := s.consentDocs(ctx)
	if err != nil {
		return sum, err
	}
	studies, err := s.Studies(ctx)
	if err != nil {
		return sum, err
	}
	for _, c := range consents {
		if !c.pendingWithdrawal() {
			continue
		}
		ok, err := s.withdraw(ctx, studies, c)
		if err != nil {
			fail(err)
		} else if ok {
			sum.Withdrawals++
		}
	}
	log, err := s.Transmissions(ctx)
	if err != nil {
		return sum, err
	}
	for _, c := range consents {
		newest, err := latest(studies, c.StudyID)
		if err != nil || !c.activeWith(newest.Version, now) {
			continue
		}
		ss, err := s.shareConsent(ctx, newest, c, consents, log, now)
		if err != nil {
			ss.Error = err.Error()
			fail(err)
		}
		sum.Sent += ss.Sent
		sum.Studies = append(sum.Studies, ss)
	}
	return sum, errors.Join(errs...)
}

// sentKeys returns the measures and periods already stored at the collector for a study: sent
// by a consent to it whose data was not withdrawn.
func sentKeys(studyID string, consents []Consent, log []Transmission) map[study.Key]bool {
	kept := map[string]bool{}
	for _, c := range consents {
		if c.StudyID == studyID && !c.Withdraw {
			kept[c.ID] = true
		}
	}
	out := map[study.Key]bool{}
	for _, t := range log {
		if t.Kind == KindContributions && t.OK && kept[t.ConsentID] {
			for _, k := range t.Keys {
				out[k] = true
			}
		}
	}
	return out
}

// batches splits contributions into POST bodies of at most study.MaxBatchEntries contributions
// and study.MaxBatchBytes bytes.
func batches(cs []study.Contribution) ([][]byte, [][]study.Contribution, error) {
	var bodies [][]byte
	var parts [][]study.Contribution
	var split func(cs []study.Contribution) error
	split = func(cs []study.Contribution) error {
		if len(cs) == 0 {
			return nil
		}
		body, err := json.Marshal(study.Batch{Contributions: cs})
		if err != nil {
			return fmt.Errorf("sharing: encode a batch: %w", err)
		}
		if len(cs) > study.MaxBatchEntries || len(body) > study.MaxBatchBytes {
			if len(cs) == 1 {
				return fmt.Errorf("sharing: a contribution of %d bytes is over the collector's limit", len(body))
			}
			if err := split(cs[:len(cs)/2]); err != nil {
				return err
			}
			return split(cs[len(cs)/2:])
		}
		bodies = append(bodies, body)
		parts = append(parts, cs)
		return nil
	}
	err := split(cs)
	return bodies, parts, err
}

// shareConsent sends what a consent has pending.
func (s *Service) shareConsent(ctx context.Context, d *study.Descriptor, c Consent, consents []Consent, log []Transmission, now time.Time) (StudySummary, error) {
	ss := StudySummary{StudyID: d.ID, StudyVersion: d.Version}
	cs, dropped, err := s.contributions(ctx, d, c.Pseudonym, c.Measures, c.Profile, now, sentKeys(d.ID, consents, log))
	if err != nil {
		return ss, err
	}
	for _, e := range dropped {
		ss.Dropped = append(ss.Dropped, e.Error())
	}
	ss.Pending = len(cs)
	if len(cs) == 0 {
		return ss, nil
	}
	bodies, parts, err := batches(cs)
	if err != nil {
		return ss, err
	}
	for i, body := range bodies {
		keys := make([]study.Key, len(parts[i]))
		for j := range parts[i] {
			keys[j] = parts[i][j].Key()
		}
		rec := Transmission{Kind: KindContributions, StudyID: d.ID, StudyVersion: d.Version, ConsentID: c.ID,
			Payload: string(body), Keys: keys}
		ss.Batches++
		status, answer, attempts, err := s.send(ctx, rec, Request{Kind: KindContributions, Study: d, Body: body})
		ss.Attempts += attempts
		if err != nil {
			return ss, err
		}
		switch {
		case status == http.StatusOK:
			var res study.BatchResult
			if err := json.Unmarshal(answer, &res); err != nil {
				return ss, fmt.Errorf("sharing: study %s: the collector's answer: %w", d.ID, err)
			}
			ss.Created += res.Created
			ss.Replaced += res.Replaced
			ss.Unchanged += res.Unchanged
			ss.Sent += len(res.Stored)
		case status == http.StatusGone:
			// The collector holds a withdrawal of this pseudonym: stop sending under it.
			if err := s.setRevoked(ctx, c.ID, s.opts.Now().UTC(), false); err != nil {
				return ss, err
			}
			if err := s.setWithdrawn(ctx, c.ID, s.opts.Now().UTC()); err != nil {
				return ss, err
			}
			return ss, fmt.Errorf("sharing: study %s: the collector says this pseudonym was withdrawn; the consent is now revoked", d.ID)
		default:
			return ss, fmt.Errorf("sharing: study %s: the collector refused the contributions: %s", d.ID, describe(status, answer))
		}
	}
	return ss, nil
}

// describe says what an error answer says.
func describe(status int, answer []byte) string {
	var er study.ErrorResponse
	if json.Unmarshal(answer, &er) == nil && er.Error.Code != "" {
		msg := fmt.Sprintf("%d %s", status, er.Error.Error())
		if er.Error.Code == study.CodeVersionMismatch {
			msg += fmt.Sprintf(" (the study is at version %d: add its new descriptor and consent again)", er.Error.CurrentVersion)
		}
		return msg
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// retryable says whether an answer is worth another try.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// errTryAgain is what an attempt of send returns for a failure worth another try.
var errTryAgain = errors.New("sharing: the attempt failed")

// send sends a request, retrying on network errors, 5xx, 408 and 429 with backoff, and logs
// every attempt. It returns the last status and answer (an error only when no answer came, or
// the log could not be written).
func (s *Service) send(ctx context.Context, rec Transmission, req Request) (status int, answer []byte, attempts int, err error) {
	if s.opts.Transport == nil {
		return 0, nil, 0, errNoTransport
	}
	route := s.opts.Transport.Route(req)
	rec.Method, rec.URL, rec.Via = route.Method, route.URL, route.Via
	var sendErr error
	var retryAfter time.Duration
	policy := retry.Policy{
		Attempts: s.opts.Attempts,
		Initial:  s.opts.Backoff,
		Max:      s.opts.MaxBackoff,
		Jitter:   retry.NoJitter,
		// A failure once ctx is done is reported as such, not retried.
		Retryable:  func(err error) bool { return err == errTryAgain && ctx.Err() == nil },
		RetryAfter: func(error) time.Duration { return retryAfter },
	}
	err = retry.Do(ctx, policy, func(attempt int) error {
		rec.Attempt, rec.Time = attempt, s.opts.Now().UTC()
		var a Answer
		a, sendErr = s.opts.Transport.Send(ctx, req)
		status, answer, retryAfter = a.Status, a.Body, a.RetryAfter
		attempts = attempt
		rec.Status, rec.Answer, rec.Error, rec.OK = status, cut(answer), "", false
		if sendErr != nil {
			rec.Error = sendErr.Error()
		} else {
			rec.OK = status == http.StatusOK
		}
		if _, _, err := s.log.Create(ctx, rec); err != nil {
			return fmt.Errorf("sharing: log the transmission to %s: %w", rec.URL, err)
		}
		if sendErr == nil && !retryable(status) {
			return nil
		}
		return errTryAgain
	})
	var in *retry.Interrupted
	switch {
	case err == nil:
		return status, answer, attempts, nil
	case errors.As(err, &in):
		return 0, nil, attempts, fmt.Errorf("sharing: %s %s: %w", rec.Method, rec.URL, in.Cause)
	case err != errTryAgain:
		return status, answer, attempts, err // the log could not be written
	case sendErr != nil:
		return 0, nil, attempts, fmt.Errorf("sharing: %s %s: %w (after %d attempts)", rec.Method, rec.URL, sendErr, attempts)
	default:
		return 0, nil, attempts, fmt.Errorf("sharing: %s %s: %s (after %d attempts)", rec.Method, rec.URL, describe(status, answer), attempts)
	}
}

func cut(b []byte) string {
	if len(b) > maxAnswer {
		return strings.ToValidUTF8(string(b[:maxAnswer]), "") + "…"
	}
	return string(b)
}

// PreviewPseudonym stands for the pseudonym in a preview before consent: the real one is drawn
// when the person grants.
const PreviewPseudonym = "00000000000000000000000000000000"

// Preview returns exactly the payload Share would send now for these measures of the study's
// newest version: with the active consent's pseudonym and profile when there is one (and only
// the periods it has not sent), otherwise with [PreviewPseudonym] and every complete period.
// Several batches are separated by a newline; nothing due gives an empty payload.
func (s *Service) Preview(ctx context.Context, studyID string, measures []study.MeasureID, now time.Time) ([]byte, error) {
	return s.PreviewProfile(ctx, studyID, measures, nil, now)
}

// PreviewProfile is [Service.Preview] with the profile answers of a consent about to be given
// (used when there is no active consent).
func (s *Service) PreviewProfile(ctx context.Context, studyID string, measures []study.MeasureID, profile map[string]string, now time.Time) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.Latest(ctx, studyID)
	if err != nil {
		return nil, err
	}
	if err := checkGrant(d, measures, profile); err != nil {
		return nil, err
	}
	consents, err := s.consentDocs(ctx)
	if err != nil {
		return nil, err
	}
	log, err := s.Transmissions(ctx)
	if err != nil {
		return nil, err
	}
	pseudonym := PreviewPseudonym
	for _, c := range consents {
		if c.StudyID == studyID && c.activeWith(d.Version, now) {
			pseudonym, profile = c.Pseudonym, c.Profile
		}
	}
	if len(profile) == 0 {
		profile = nil
	}
	cs, _, err := s.contributions(ctx, d, pseudonym, measures, profile, now, sentKeys(studyID, consents, log))
	if err != nil {
		return nil, err
	}
	bodies, _, err := batches(cs)
	if err != nil {
		return nil, err
	}
	return bytes.Join(bodies, []byte("\n")), nil
}
