package store

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Results of a run (RunRecord.Result).
const (
	// ResultOK: the job returned nil.
	ResultOK = "ok"
	// ResultError: the job returned an error (or panicked).
	ResultError = "error"
	// ResultCancelled: the run's context was cancelled for another reason
	// than a lost lease (shutdown past its timeout).
	ResultCancelled = "cancelled"
	// ResultLost: the run's node lost its lease during the run, or died:
	// then the node that took the lease over records the run as lost.
	ResultLost = "lost"
	// ResultTimeout: the run outlasted its job's timeout, and its context
	// was cancelled.
	ResultTimeout = "timeout"
)

// MaxErrorBytes is the longest RunRecord.Error a history keeps: an error
// from a job can be anything, and a record must stay small.
const MaxErrorBytes = 512

// DefaultHistoryLimit is how many runs per job a backend keeps by default.
const DefaultHistoryLimit = 50

// MaxHistoryLimit is the most runs per job a backend keeps: a read of a
// whole history is then one Datastore Lookup (at most 1,000 keys).
const MaxHistoryLimit = 500

// RunRecord is one run of a job, as every replica sees it in the history.
type RunRecord struct {
	Job string
	// Tick and Term are the run's claim. A tick is claimed once per job,
	// so (Job, Tick) names the run: see ID.
	Tick time.Time
	Term int64
	// Node is the node that ran it.
	Node string
	// Start is when the run began, on Node's clock; for a lost run recorded
	// by another node, its tick.
	Start time.Time
	// Duration is how long the run took; zero for a lost run recorded by
	// another node, whose end nobody saw.
	Duration time.Duration
	// Result is one of ResultOK, ResultError, ResultCancelled, ResultLost,
	// ResultTimeout.
	Result string
	// Error is the run's error, at most MaxErrorBytes (TruncateError).
	Error string
	// Manual is true for a run an operator asked for (POST /jobs/{job}/run).
	Manual bool
	// Attempts is how many times the run's job was called under its claim:
	// 1, more with retries; 0 for a lost run recorded by another node.
	Attempts int
	// Status is a command's exit status ("exit 0", "exit 3", "signal:
	// killed") or an HTTP target's ("HTTP 503"); "" for a Go function. At
	// most MaxStatusBytes.
	Status string
	// Output is the end of a command's output, or of an HTTP response's
	// body: at most its last MaxOutputBytes (TruncateOutput).
	Output string
}

// MaxOutputBytes is the most of a run's output (RunRecord.Output) a history
// keeps: its end, where a failing command says why.
const MaxOutputBytes = 4096

// MaxStatusBytes is the longest RunRecord.Status a history keeps.
const MaxStatusBytes = 64

// Bounded returns r with Error, Status and Output cut to what a history
// keeps. Backends store records through it.
func (r RunRecord) Bounded() RunRecord {
	r.Error = TruncateError(r.Error)
	r.Status = cutUTF8(r.Status, MaxStatusBytes)
	r.Output = TruncateOutput(r.Output)
	return r
}

// TruncateOutput keeps the last MaxOutputBytes of s, on a UTF-8 boundary,
// beginning with "…" when it was cut.
func TruncateOutput(s string) string {
	if len(s) <= MaxOutputBytes {
		return s
	}
	const ellipsis = "…"
	cut := len(s) - (MaxOutputBytes - len(ellipsis))
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return ellipsis + strings.ToValidUTF8(s[cut:], "")
}

// cutUTF8 cuts s to at most n bytes, on a UTF-8 boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ID names the run: its job and its tick, to the microsecond (the precision
// every backend keeps).
func (r RunRecord) ID() string { return RunID(r.Job, r.Tick) }

// RunID is the ID of job's run of tick.
func RunID(job string, tick time.Time) string {
	return job + "@" + tick.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}

// TruncateError cuts s to at most MaxErrorBytes, on a UTF-8 boundary, ending
// in "…" when it was cut.
func TruncateError(s string) string {
	if len(s) <= MaxErrorBytes {
		return s
	}
	const ellipsis = "…"
	cut := MaxErrorBytes - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + ellipsis
}

// History keeps the latest runs of each job, shared by every replica. A
// backend keeps a fixed number per job (its history limit, set when it is
// built) and drops the oldest. Every method is safe for concurrent use by
// many goroutines and many processes.
type History interface {
	// AppendRun adds rec to its job's history, as the newest record, and
	// drops the oldest beyond the limit, atomically. A record whose Result
	// is ResultLost is not added when the job's latest record (by tick) is
	// already of the same tick and term: that run finished and was
	// recorded; its node died afterwards. The record is stored Bounded.
	AppendRun(ctx context.Context, rec RunRecord) error

	// Runs returns up to limit of the job's latest runs, newest (latest
	// tick) first, as of now: a run appended before the call began is in
	// the answer (a strongly consistent read). Of a run recorded twice (lost
	// by the node that took over, then by its own node, which was only
	// frozen), the record of its own node is returned. A job with no
	// history has none, and no error.
	Runs(ctx context.Context, job string, limit int) ([]RunRecord, error)
}

// RunLog is what a backend keeps about one job's history besides the
// records themselves, and updates with each append.
type RunLog struct {
	// Next is the sequence number the next record gets (the first is 0):
	// a backend with a limit of n keeps records Next-n to Next-1.
	Next int64
	// LatestTick, LatestTerm and LatestLost describe the record with the
	// latest tick so far.
	LatestTick time.Time
	LatestTerm int64
	LatestLost bool
}

// Append applies the history rules: it returns the log after appending rec
// and rec's sequence number, or ok false when rec is not to be added (see
// History.AppendRun). Backends call it inside their atomic section.
func (l RunLog) Append(rec RunRecord) (next RunLog, seq int64, ok bool) {
	if rec.Result == ResultLost && l.Next > 0 && l.LatestTick.Equal(rec.Tick) && l.LatestTerm == rec.Term {
		return l, 0, false
	}
	next, seq = l, l.Next
	next.Next++
	if l.Next == 0 || !rec.Tick.Before(l.LatestTick) {
		next.LatestTick, next.LatestTerm, next.LatestLost = rec.Tick, rec.Term, rec.Result == ResultLost
	}
	return next, seq, true
}

// Idle reports whether cur's holder has finished the run of its latest
// claim: the latest record is of cur's tick and term, written by the run
// itself (not as lost by a node taking over). A holder acts on its lease
// only by claiming, or while a run lasts, so an idle holder's lease may be
// taken for a manual run (Control.ClaimManual) without any overlap.
func (l RunLog) Idle(cur Lease) bool {
	return cur.Held() && !cur.Tick.IsZero() && l.Next > 0 && !l.LatestLost &&
		l.LatestTick.Equal(cur.Tick) && l.LatestTerm == cur.Term
}

// SeqRecord is a stored record and its sequence number (RunLog.Next when it
// was appended).
type SeqRecord struct {
	Seq int64
	RunRecord
}

// LatestRuns turns a job's stored records into the answer of History.Runs:
// those among the last keep appended (a backend's limit can change from one
// deployment to the next), one per run, newest tick first, at most limit.
func LatestRuns(recs []SeqRecord, log RunLog, keep, limit int) []RunRecord {
	byTick := make(map[int64]SeqRecord, len(recs))
	for _, r := range recs {
		if r.Seq >= log.Next || r.Seq < log.Next-int64(keep) {
			continue // a slot left over from another limit
		}
		k := r.Tick.UnixNano()
		if prev, dup := byTick[k]; !dup || better(r, prev) {
			byTick[k] = r
		}
	}
	out := make([]SeqRecord, 0, len(byTick))
	for _, r := range byTick {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tick.After(out[j].Tick) })
	if limit < len(out) {
		out = out[:max(limit, 0)]
	}
	runs := make([]RunRecord, len(out))
	for i, r := range out {
		runs[i] = r.RunRecord
	}
	return runs
}

// better reports whether r says more about its run than prev, of the same
// tick: a run's own record beats "lost" from the node that took over, and
// otherwise the later one wins.
func better(r, prev SeqRecord) bool {
	if rl, pl := r.Result == ResultLost, prev.Result == ResultLost; rl != pl {
		return pl
	}
	return r.Seq > prev.Seq
}
