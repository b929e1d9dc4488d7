package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txConn is a pooled connection carrying one transaction that is begun,
// and its rows locked, in one round trip (a batch that starts with BEGIN),
// and committed with its writes in another.
type txConn struct {
	conn  *pgxpool.Conn
	calls *Calls
	// committing is set once the COMMIT is sent: from then on the
	// transaction may have been applied.
	committing bool
}

// inTx runs fn on a connection of the pool. A connection fn leaves in a
// transaction (an error, a lost answer) is closed by the pool on release,
// which rolls the transaction back. fn is run again, once, on another
// connection, when its connection failed before the COMMIT was sent (a
// pooled connection found dead, as after a database restart): nothing can
// have been applied.
func (s *Store) inTx(ctx context.Context, fn func(tx *txConn) error) error {
	for attempt := 0; ; attempt++ {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("no connection: %w", err)
		}
		tx := &txConn{conn: conn, calls: s.calls}
		err = fn(tx)
		broken := conn.Conn().IsClosed()
		conn.Release()
		if err == nil || attempt > 0 || ctx.Err() != nil {
			return err
		}
		if !pgconn.SafeToRetry(err) && (tx.committing || !broken) {
			return err
		}
	}
}

// read makes the query f, a round trip that writes nothing, and makes it
// again, once, when it failed without an answer from the server (a pooled
// connection found dead, as after a database restart).
func (s *Store) read(ctx context.Context, method string, f func() error) error {
	err := s.calls.do(method, f)
	var pgErr *pgconn.PgError
	if err != nil && ctx.Err() == nil && !errors.As(err, &pgErr) && !errors.Is(err, pgx.ErrNoRows) {
		err = s.calls.do(method, f)
	}
	return err
}

// send makes one round trip: b's statements, then read of their results.
func (t *txConn) send(ctx context.Context, method string, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	return t.calls.do(method, func() error {
		br := t.conn.SendBatch(ctx, b)
		err := read(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// rollback ends the transaction without writing. Its error is of no
// consequence: a connection still in the transaction is closed on release.
func (t *txConn) rollback(ctx context.Context) {
	_ = t.calls.do("Rollback", func() error {
		_, err := t.conn.Exec(ctx, "ROLLBACK")
		return err
	})
}

// write is one statement of a commit, which must change rows rows.
type write struct {
	sql  string
	args []any
	rows int64
}

// commit sends the writes and COMMIT in one round trip. When the answer
// does not come back (the connection fails after sending), the outcome is
// unknown and the error matches ErrOutcomeUnknown; an error the server
// answers means nothing was applied.
func (t *txConn) commit(ctx context.Context, writes ...write) error {
	b := &pgx.Batch{}
	for _, w := range writes {
		b.Queue(w.sql, w.args...)
	}
	b.Queue("COMMIT")
	t.committing = true
	err := t.send(ctx, "Commit", b, func(br pgx.BatchResults) error {
		for _, w := range writes {
			tag, err := br.Exec()
			if err != nil {
				return err
			}
			if tag.RowsAffected() != w.rows {
				return fmt.Errorf("%s changed %d rows, want %d", tag, tag.RowsAffected(), w.rows)
			}
		}
		tag, err := br.Exec()
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("the transaction ended with %s", tag)
		}
		return err
	})
	var pgErr *pgconn.PgError
	if err != nil && !errors.As(err, &pgErr) && !pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return err
}
