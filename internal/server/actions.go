package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"go-leader-election/internal/schedulers"
	"go-leader-election/store"
)

// Actions carries out the operator's actions; *schedulers.Group implements
// it.
type Actions interface {
	RunNow(ctx context.Context, job string) (schedulers.ManualRun, error)
	SetPaused(ctx context.Context, job string, paused bool) error
}

// The action endpoints, by the last element of their path.
const (
	actionRun    = "run"
	actionPause  = "pause"
	actionResume = "resume"
)

// maxBody bounds the body of an action request, which none needs.
const maxBody = 1 << 10

// waitForScheduler bounds how long a run request waits for its scheduler to
// be between ticks (schedulers.ErrBusy).
const waitForScheduler = 2 * time.Second

// PauseResponse is the body of a successful pause or resume.
type PauseResponse struct {
	Job    string `json:"job"`
	Paused bool   `json:"paused"`
}

// authorize checks the request's bearer token against token, in constant
// time: both are hashed first, so not even the token's length leaks. It
// returns the HTTP status to refuse with, or 0.
func authorize(r *http.Request, token string) (int, string) {
	if token == "" {
		return http.StatusForbidden, "actions are disabled: set ADMIN_TOKEN to enable them"
	}
	h := r.Header.Get("Authorization")
	scheme, given, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(given) == "" {
		return http.StatusUnauthorized, "send Authorization: Bearer <ADMIN_TOKEN>"
	}
	want, got := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(strings.TrimSpace(given)))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return http.StatusForbidden, "wrong token"
	}
	return 0, ""
}

// actionHandler serves POST /jobs/{job}/<action>. Every request is logged
// as an Action event (action, job, remote, status), refused ones too.
func actionHandler(o Options, action string, log zerolog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		job := r.PathValue("job")
		code, body := serveAction(w, r, o, action, job)
		ev := log.Info()
		if code >= 400 {
			ev = log.Warn()
		}
		ev = ev.Str("action", action).Str("job", truncate(job, 100)).Str("remote", r.RemoteAddr).Int("status", code)
		switch b := body.(type) {
		case errorBody:
			ev = ev.Str("error", b.Error)
		case schedulers.ManualRun:
			ev = ev.Str("id", b.ID).Str("tick", b.Tick.UTC().Format(time.RFC3339Nano)).Int64("term", b.Term)
		}
		ev.Msg("Action")
		writeJSON(w, code, body)
	}
}

// serveAction carries out one action request and returns the answer.
func serveAction(w http.ResponseWriter, r *http.Request, o Options, action, job string) (int, any) {
	if o.Actions == nil {
		return http.StatusForbidden, errorBody{"actions are disabled: set ADMIN_TOKEN to enable them"}
	}
	if code, msg := authorize(r, o.AdminToken); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="go-leader-election"`)
		}
		return code, errorBody{msg}
	}
	if len(r.URL.RawQuery) > maxQuery {
		return http.StatusBadRequest, errorBody{fmt.Sprintf("query longer than %d bytes", maxQuery)}
	}
	// No action takes a body; a large one is refused, a small one ignored.
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, errorBody{fmt.Sprintf("body over %d bytes; actions take none", maxBody)}
		}
		return http.StatusBadRequest, errorBody{"read the body: " + err.Error()}
	}
	if !knownJob(o, job) {
		return http.StatusNotFound, errorBody{fmt.Sprintf("no job %q runs here", truncate(job, 100))}
	}
	switch action {
	case actionRun:
		ctx, cancel := context.WithTimeout(r.Context(), waitForScheduler)
		defer cancel()
		run, err := o.Actions.RunNow(ctx, job)
		if err != nil {
			return actionError(w, err)
		}
		w.Header().Set("Location", "runs") // relative: the handler may be mounted under a prefix
		return http.StatusAccepted, run
	default:
		paused := action == actionPause
		if err := o.Actions.SetPaused(r.Context(), job, paused); err != nil {
			return actionError(w, err)
		}
		return http.StatusOK, PauseResponse{Job: job, Paused: paused}
	}
}

// actionError maps an action's error to an answer: a conflict with the
// job's state is 409, anything that may pass by retrying is 503.
func actionError(w http.ResponseWriter, err error) (int, any) {
	switch {
	case errors.Is(err, schedulers.ErrUnknownJob):
		return http.StatusNotFound, errorBody{err.Error()}
	case errors.Is(err, schedulers.ErrRunInProgress), errors.Is(err, schedulers.ErrTickDue):
		return http.StatusConflict, errorBody{err.Error() + "; try again"}
	case errors.Is(err, store.ErrPaused):
		return http.StatusConflict, errorBody{"the job is paused; resume it first"}
	case errors.Is(err, schedulers.ErrNoControl):
		return http.StatusNotImplemented, errorBody{err.Error()}
	default:
		w.Header().Set("Retry-After", "1")
		return http.StatusServiceUnavailable, errorBody{err.Error()}
	}
}
