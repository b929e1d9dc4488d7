package schedulers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"
)

// A run calls the job through a chain of wrappers, each one policy of the
// job's (as robfig/cron's Chain wraps a job): innermost the recovery of a
// panic, then the retries, outermost the timeout. Each takes the run's
// context, and a run's every attempt is made under its claim and term: the
// lease stays held and renewed around them all.

// call is one call of the job, wrapped or not.
type call func(ctx context.Context) error

// wrapper adds one policy around a call.
type wrapper func(call) call

// call returns the job's call for run r, wrapped by the job's policies.
func (s *Scheduler) call(r *activeRun) call {
	c := call(s.job.Run)
	for _, w := range []wrapper{recovered, s.retried(r), s.timed()} {
		c = w(c)
	}
	return c
}

// panicError is a panic in the job, recovered: one job's bug neither kills
// the process nor leaves the lease held by a dead run.
type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// recovered turns a panic of next into a *panicError.
func recovered(next call) call {
	return func(ctx context.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &panicError{value: p, stack: string(debug.Stack())}
			}
		}()
		return next(ctx)
	}
}

// withCause returns err, or the cause of ctx's end when err is nil or
// context.Canceled: why a run was cancelled says more than "context
// canceled".
func withCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return cause
	}
	return err
}

// errTimeout is the cause of a run cancelled by its Policy.Timeout.
var errTimeout = errors.New("timeout")

// timed cancels the run's context after Policy.Timeout (none when zero):
// the run then ends with errTimeout, unless it returned nil.
func (s *Scheduler) timed() wrapper {
	d := s.cfg.Policy.Timeout
	if d == 0 {
		return func(next call) call { return next }
	}
	return func(next call) call {
		return func(ctx context.Context) error {
			ctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			timer := s.clk.AfterFunc(d, func() { cancel(fmt.Errorf("%w after %s", errTimeout, d)) })
			defer timer.Stop()
			err := next(ctx)
			if cause := context.Cause(ctx); err != nil && errors.Is(cause, errTimeout) && !errors.Is(err, errTimeout) {
				if errors.Is(err, context.Canceled) {
					return cause
				}
				return fmt.Errorf("%w: %w", cause, err)
			}
			return err
		}
	}
}

// retried calls next again after an error, up to Policy.Retries more
// times, waiting retryBackoff before each: not once the run's context has
// ended (its lease lost, its timeout, a Replace), nor once shutdown has
// begun, nor when the attempt would start at or after the tick's StartBy.
// r.info.Attempt counts the calls.
func (s *Scheduler) retried(r *activeRun) wrapper {
	return func(next call) call {
		return func(ctx context.Context) error {
			for {
				err := next(ctx)
				if err == nil || r.info.Attempt > s.cfg.Policy.Retries || ctx.Err() != nil || r.loop.Err() != nil {
					return err
				}
				wait := s.retryBackoff(r.info.Attempt)
				if !s.clk.Now().Add(wait).Before(r.startBy) {
					return err
				}
				if o, ok := s.obs.(PolicyObserver); ok {
					o.Retried(s.job.Name)
				}
				s.log.Warn().Err(err).Str("tick", formatTick(r.tok.Tick)).Int64("term", r.tok.Term).
					Int("attempt", r.info.Attempt+1).Str("backoff", wait.Round(time.Millisecond).String()).Msg("Retrying")
				if !s.waitToRetry(ctx, r, wait) {
					return err
				}
				r.info.Attempt++
			}
		}
	}
}

// waitToRetry waits d, and reports false if the run's context (ctx) or the
// Run loop's ends first.
func (s *Scheduler) waitToRetry(ctx context.Context, r *activeRun, d time.Duration) bool {
	timer := s.clk.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-r.loop.Done():
		return false
	case <-timer.C:
		return true
	}
}

// retryBackoff is the wait after failed attempt n: RetryBackoff doubled n-1
// times, jittered by ±20% so that jobs failing together retry apart.
func (s *Scheduler) retryBackoff(n int) time.Duration {
	base := s.cfg.Policy.RetryBackoff
	if base == 0 {
		base = DefaultRetryBackoff
	}
	d := base << min(n-1, 20)
	if d <= 0 || d > 24*time.Hour { // overflow, or longer than any tick period of use
		d = 24 * time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
