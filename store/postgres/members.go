package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go-leader-election/store"
)

// PutMember implements store.Members with one statement, an upsert that
// adds one to the stored version.
func (s *Store) PutMember(ctx context.Context, m store.Member) (store.Member, error) {
	if err := checkName("put member", m.ID); err != nil {
		return store.Member{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m.Started, m.Renewed = micros(m.Started), micros(m.Renewed)
	err := s.calls.do("PutMember", func() error {
		return s.pool.QueryRow(ctx, s.sql.putMember, m.ID, m.Node, nullTime(m.Started), nullTime(m.Renewed),
			int64(m.TTL), int64(m.ClockOffset), m.JobSet, nonNilStrings(m.Jobs)).Scan(&m.Version)
	})
	if err != nil {
		return store.Member{}, wrap(ctx, "put member", m.ID, err)
	}
	return m, nil
}

// DeleteMember implements store.Members with one statement.
func (s *Store) DeleteMember(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.calls.do("DeleteMember", func() error {
		_, err := s.pool.Exec(ctx, s.sql.deleteMember, id)
		return err
	})
	if err != nil {
		return wrap(ctx, "delete member", id, err)
	}
	return nil
}

// ListMembers implements store.Members with one query. A record whose
// version or TTL is not positive (edited by hand) is reported in bad.
func (s *Store) ListMembers(ctx context.Context) ([]store.Member, []error, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var out []store.Member
	var bad []error
	err := s.read(ctx, "ListMembers", func() error {
		out, bad = nil, nil
		rows, err := s.pool.Query(ctx, s.sql.listMembers)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m store.Member
			var started, renewed *time.Time
			var ttl, offset int64
			if err := rows.Scan(&m.ID, &m.Node, &started, &renewed, &ttl, &offset, &m.JobSet, &m.Jobs, &m.Version); err != nil {
				return err
			}
			m.Started, m.Renewed, m.TTL, m.ClockOffset = fromNull(started), fromNull(renewed), time.Duration(ttl), time.Duration(offset)
			if m.Version <= 0 || m.TTL <= 0 {
				bad = append(bad, fmt.Errorf("member %s: %w: version %d and ttl_ns %d must be positive", m.ID, store.ErrBadMember, m.Version, ttl))
				continue
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, wrap(ctx, "list members", "", err)
	}
	// In Go's order of strings, whatever the database's collation.
	slices.SortFunc(out, func(a, b store.Member) int { return strings.Compare(a.ID, b.ID) })
	return out, bad, nil
}

// nonNilStrings is s, or an empty list: the column is NOT NULL.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
