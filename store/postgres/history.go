package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"go-leader-election/store"
	"go-leader-election/store/internal/coalesce"
)

// The run history is a ring per job: a log row in gle_run_logs, and up to
// the history limit of rows in gle_runs, slot 0 to limit-1: a record with
// sequence number n goes to slot n mod limit, over the record n-limit. So
// the keys alone keep exactly the last limit records, with no delete; rows
// left over from a larger limit are ignored (store.LatestRuns).
//
// An append is one transaction of two round trips, as a claim (batch.go):
// the log rows' creation where missing and their locked read, then the
// records' upsert, the logs' update and COMMIT; the appends of many jobs
// made at the same moment share one. Runs is one query.

// AppendRun implements store.History in one transaction, shared with the
// appends of other jobs made at the same moment.
func (s *Store) AppendRun(ctx context.Context, rec store.RunRecord) error {
	if err := checkName("append run", rec.Job); err != nil {
		return err
	}
	// An error is anything a job returned: made text PostgreSQL takes, so
	// that it cannot fail the batch it goes in.
	for _, text := range []*string{&rec.Error, &rec.Status, &rec.Output} { // what a text column can hold
		*text = strings.ToValidUTF8(strings.ReplaceAll(*text, "\x00", ""), "\uFFFD")
	}
	rec = rec.Bounded()
	rec.Tick, rec.Start = micros(rec.Tick), micros(rec.Start)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.appends.Submit(ctx, rec)
	if err != nil && err == ctx.Err() {
		return wrap(ctx, "append run", rec.Job, err)
	}
	return err
}

// appendBatch appends one record per job of the batch in one transaction.
func (s *Store) appendBatch(batch []*coalesce.Call[store.RunRecord, struct{}]) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.inTx(ctx, func(tx *txConn) error {
		jobs := make([]string, len(batch))
		for i, cl := range batch {
			jobs[i] = cl.Req.Job
		}
		logs, err := s.lockLogs(ctx, tx, jobs)
		if err != nil {
			return err
		}
		var w runWrites
		for _, cl := range batch {
			next, seq, ok := logs[cl.Req.Job].Append(cl.Req)
			if ok {
				w.add(cl.Req, seq, int64(s.historyLimit), next)
			}
		}
		if len(w.jobs) == 0 {
			tx.rollback(ctx)
			return nil
		}
		return tx.commit(ctx, w.runs(s.sql.writeRuns), w.logs(s.sql.writeLogs))
	})
	for _, cl := range batch {
		if err != nil {
			cl.Err = wrap(ctx, "append run", cl.Req.Job, err)
		}
	}
}

// lockLogs is an append's first round trip: BEGIN, the jobs' log rows
// created where missing and read with a row lock, in key order.
func (s *Store) lockLogs(ctx context.Context, tx *txConn, jobs []string) (map[string]store.RunLog, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(s.sql.createLogs, jobs)
	b.Queue(s.sql.lockLogs, jobs)
	logs := make(map[string]store.RunLog, len(jobs))
	err := tx.send(ctx, "Lock", b, func(br pgx.BatchResults) error {
		for range 2 {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		return eachRow(br, func(row pgx.Rows) error {
			var job string
			var l store.RunLog
			var tick *time.Time
			err := row.Scan(&job, &l.Next, &tick, &l.LatestTerm, &l.LatestLost)
			l.LatestTick = fromNull(tick)
			logs[job] = l
			return err
		})
	})
	return logs, err
}

// runWrites are the columns of an append's records and logs.
type runWrites struct {
	jobs, nodes, results, errs []string
	slots                      []int32
	seqs, terms, durations     []int64
	ticks, starts              []*time.Time
	manual                     []bool
	attempts                   []int32
	statuses, outputs          []string
	next, latestTerm           []int64
	latestTick                 []*time.Time
	latestLost                 []bool
}

func (w *runWrites) add(r store.RunRecord, seq, limit int64, log store.RunLog) {
	w.jobs, w.nodes, w.results, w.errs = append(w.jobs, r.Job), append(w.nodes, r.Node), append(w.results, r.Result), append(w.errs, r.Error)
	w.slots, w.seqs, w.terms = append(w.slots, int32(seq%limit)), append(w.seqs, seq), append(w.terms, r.Term)
	w.durations, w.ticks, w.starts = append(w.durations, int64(r.Duration)), append(w.ticks, nullTime(r.Tick)), append(w.starts, nullTime(r.Start))
	w.manual, w.attempts = append(w.manual, r.Manual), append(w.attempts, int32(r.Attempts))
	w.statuses, w.outputs = append(w.statuses, r.Status), append(w.outputs, r.Output)
	w.next, w.latestTerm = append(w.next, log.Next), append(w.latestTerm, log.LatestTerm)
	w.latestTick, w.latestLost = append(w.latestTick, nullTime(log.LatestTick)), append(w.latestLost, log.LatestLost)
}

func (w *runWrites) runs(sql string) write {
	return write{sql: sql, rows: int64(len(w.jobs)), args: []any{w.jobs, w.slots, w.seqs, w.ticks, w.terms, w.nodes,
		w.starts, w.durations, w.results, w.errs, w.manual, w.attempts, w.statuses, w.outputs}}
}

func (w *runWrites) logs(sql string) write {
	return write{sql: sql, rows: int64(len(w.jobs)), args: []any{w.jobs, w.next, w.latestTick, w.latestTerm, w.latestLost}}
}

// Runs implements store.History with one query of the job's log joined
// with its records.
func (s *Store) Runs(ctx context.Context, job string, limit int) ([]store.RunRecord, error) {
	if err := checkName("runs", job); err != nil {
		return nil, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var log store.RunLog
	var recs []store.SeqRecord
	err := s.read(ctx, "Runs", func() error {
		recs = nil
		rows, err := s.pool.Query(ctx, s.sql.runs, job)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var latest, tick, started *time.Time
			var seq, term, duration *int64
			var node, result, errText *string
			var manual *bool
			var attempts *int32
			var status, output *string
			if err := rows.Scan(&log.Next, &latest, &log.LatestTerm, &log.LatestLost,
				&seq, &tick, &term, &node, &started, &duration, &result, &errText, &manual, &attempts, &status, &output); err != nil {
				return err
			}
			log.LatestTick = fromNull(latest)
			if seq == nil { // a log without records
				continue
			}
			recs = append(recs, store.SeqRecord{Seq: *seq, RunRecord: store.RunRecord{
				Job: job, Tick: fromNull(tick), Term: *term, Node: *node, Start: fromNull(started),
				Duration: time.Duration(*duration), Result: *result, Error: *errText, Manual: *manual,
				Attempts: int(*attempts), Status: *status, Output: *output,
			}})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap(ctx, "runs", job, err)
	}
	return store.LatestRuns(recs, log, s.historyLimit, limit), nil
}
