package datastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/datastore"

	"go-leader-election/store"
	"go-leader-election/store/internal/coalesce"
)

// The run history is a ring per job: a log entity, kind Config.HistoryKind
// + "Log" ("RunLog") with the job's name as key name, and up to
// Config.HistoryLimit record entities, kind Config.HistoryKind ("Run"),
// children of the log, with integer ids 1 to the limit: a record with
// sequence number n goes to id n mod limit + 1, over the record n-limit.
// So the keys alone keep exactly the last limit records, with no query and
// no delete, and every read is a Lookup by key (strongly consistent).
//
//	RunLog: Next integer, LatestTick timestamp, LatestTerm integer, LatestLost boolean
//	Run:    Seq integer, Job string, Tick timestamp, Term integer, Node string,
//	        Start timestamp, DurationNanos integer, Result string, Error string
//	        (not indexed, at most store.MaxErrorBytes), Manual boolean
//
// An append is one transaction: a Lookup of the log, then a Commit of the
// record and the log; appends made at the same moment (by the same process)
// share one, up to 250 jobs. Runs is one Lookup of the log and every slot.

// DefaultHistoryKind is the default Config.HistoryKind.
const DefaultHistoryKind = "Run"

// maxAppendBatch is how many jobs' appends share a transaction: two
// mutations each, within Datastore's 500.
const maxAppendBatch = maxMutations / 2

func (s *Store) initHistory(cfg Config) error {
	s.historyKind = cfg.HistoryKind
	if s.historyKind == "" {
		s.historyKind = DefaultHistoryKind
	}
	s.logKind = s.historyKind + "Log"
	switch s.historyLimit = cfg.HistoryLimit; {
	case s.historyLimit == 0:
		s.historyLimit = store.DefaultHistoryLimit
	case s.historyLimit < 0 || s.historyLimit > store.MaxHistoryLimit:
		return fmt.Errorf("datastore: history limit %d: want 1 to %d", cfg.HistoryLimit, store.MaxHistoryLimit)
	}
	s.appends = &coalesce.Coalescer[store.RunRecord, struct{}]{Max: maxAppendBatch,
		Key: func(r store.RunRecord) string { return r.Job }, Do: s.appendBatch}
	return nil
}

func (s *Store) logKey(job string) *datastore.Key {
	k := datastore.NameKey(s.logKind, job, nil)
	k.Namespace = s.namespace
	return k
}

func (s *Store) slotKey(log *datastore.Key, seq int64) *datastore.Key {
	k := datastore.IDKey(s.historyKind, seq%int64(s.historyLimit)+1, log)
	k.Namespace = s.namespace
	return k
}

// logEntity is the stored form of a store.RunLog.
type logEntity struct {
	Next       int64 `datastore:",noindex"`
	LatestTick time.Time
	LatestTerm int64 `datastore:",noindex"`
	LatestLost bool  `datastore:",noindex"`
}

func (e logEntity) log() store.RunLog {
	return store.RunLog{Next: e.Next, LatestTick: e.LatestTick.UTC(), LatestTerm: e.LatestTerm, LatestLost: e.LatestLost}
}

// runEntity is the stored form of a store.SeqRecord.
type runEntity struct {
	Seq           int64 `datastore:",noindex"`
	Job           string
	Tick          time.Time
	Term          int64 `datastore:",noindex"`
	Node          string
	Start         time.Time
	DurationNanos int64 `datastore:",noindex"`
	Result        string
	Error         string `datastore:",noindex"`
	Manual        bool
	Attempts      int    `datastore:",noindex"`
	Status        string `datastore:",noindex"`
	Output        string `datastore:",noindex"`
}

func (e runEntity) record() store.SeqRecord {
	return store.SeqRecord{Seq: e.Seq, RunRecord: store.RunRecord{
		Job: e.Job, Tick: e.Tick.UTC(), Term: e.Term, Node: e.Node, Start: e.Start.UTC(),
		Duration: time.Duration(e.DurationNanos), Result: e.Result, Error: e.Error, Manual: e.Manual,
		Attempts: e.Attempts, Status: e.Status, Output: e.Output,
	}}
}

// loadErr drops the error of a property this version does not know (one a
// newer version wrote): the rest loaded.
func loadErr(err error) error {
	var mismatch *datastore.ErrFieldMismatch
	if errors.As(err, &mismatch) {
		return nil
	}
	return err
}

// AppendRun implements store.History in one transaction, shared with the
// appends of other jobs made at the same moment.
func (s *Store) AppendRun(ctx context.Context, rec store.RunRecord) error {
	if rec.Job == "" {
		return errors.New("datastore: append run: empty job name")
	}
	rec = rec.Bounded()
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
	keys := make([]*datastore.Key, len(batch))
	for i, cl := range batch {
		keys[i] = s.logKey(cl.Req.Job)
	}
	err := readThenWrite(ctx, s.client, keys, func(logs []logEntity, keyErr func(int) error) ([]*datastore.Mutation, error) {
		var muts []*datastore.Mutation
		for i, cl := range batch {
			if e := loadErr(keyErr(i)); e != nil && !errors.Is(e, datastore.ErrNoSuchEntity) {
				return nil, e
			}
			next, seq, ok := logs[i].log().Append(cl.Req)
			if !ok {
				continue
			}
			r := cl.Req
			muts = append(muts,
				datastore.NewUpsert(s.slotKey(keys[i], seq), &runEntity{
					Seq: seq, Job: r.Job, Tick: r.Tick, Term: r.Term, Node: r.Node, Start: r.Start,
					DurationNanos: int64(r.Duration), Result: r.Result, Error: r.Error, Manual: r.Manual,
					Attempts: r.Attempts, Status: r.Status, Output: r.Output,
				}),
				datastore.NewUpsert(keys[i], &logEntity{Next: next.Next, LatestTick: next.LatestTick,
					LatestTerm: next.LatestTerm, LatestLost: next.LatestLost}))
		}
		return muts, nil
	})
	for _, cl := range batch {
		if err != nil {
			cl.Err = wrap(ctx, "append run", cl.Req.Job, err)
		}
	}
}

// Runs implements store.History with one Lookup of the job's log and every
// slot of its ring.
func (s *Store) Runs(ctx context.Context, job string, limit int) ([]store.RunRecord, error) {
	if job == "" {
		return nil, errors.New("datastore: runs: empty job name")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	logKey := s.logKey(job)
	keys := make([]*datastore.Key, 0, s.historyLimit+1)
	keys = append(keys, logKey)
	for i := range s.historyLimit {
		keys = append(keys, s.slotKey(logKey, int64(i)))
	}
	// One property list per Key: GetMulti needs one destination type.
	dst := make([]datastore.PropertyList, len(keys))
	err := s.client.GetMulti(ctx, keys, dst)
	var perKey datastore.MultiError
	if err != nil && !errors.As(err, &perKey) {
		return nil, wrap(ctx, "runs", job, err)
	}
	found := func(i int) (bool, error) {
		if perKey == nil || perKey[i] == nil {
			return true, nil
		}
		if errors.Is(perKey[i], datastore.ErrNoSuchEntity) {
			return false, nil
		}
		return false, wrap(ctx, "runs", job, perKey[i])
	}
	ok, err := found(0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return []store.RunRecord{}, nil
	}
	var log logEntity
	if err := loadErr(datastore.LoadStruct(&log, dst[0])); err != nil {
		return nil, fmt.Errorf("datastore: runs %s: log: %w", job, err)
	}
	recs := make([]store.SeqRecord, 0, s.historyLimit)
	for i := 1; i < len(keys); i++ {
		ok, err := found(i)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var e runEntity
		if err := loadErr(datastore.LoadStruct(&e, dst[i])); err != nil {
			return nil, fmt.Errorf("datastore: runs %s: record %d: %w", job, i, err)
		}
		recs = append(recs, e.record())
	}
	return store.LatestRuns(recs, log.log(), s.historyLimit, limit), nil
}

// getWithLog reads the lease entity at key and job's history log in one
// Lookup inside tx. A missing log leaves log zero; a missing lease is
// datastore.ErrNoSuchEntity, as from tx.Get.
func (s *Store) getWithLog(tx *datastore.Transaction, key *datastore.Key, job string, e *entity, log *store.RunLog) error {
	var le logEntity
	dst := []any{e, &le}
	err := tx.GetMulti([]*datastore.Key{key, s.logKey(job)}, dst)
	var perKey datastore.MultiError
	if err != nil && !errors.As(err, &perKey) {
		return err
	}
	if perKey == nil {
		*log = le.log()
		return nil
	}
	switch lerr := perKey[1]; {
	case loadErr(lerr) == nil:
		*log = le.log()
	case !errors.Is(lerr, datastore.ErrNoSuchEntity):
		return lerr
	}
	return perKey[0]
}
