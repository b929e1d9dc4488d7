package datastore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/datastore"

	"go-leader-election/store"
)

// DefaultMemberKind is the kind of member records, next to the leases.
const DefaultMemberKind = "Member"

var _ store.Members = (*Store)(nil)

// memberVersions remembers the version this store last wrote of each member
// record, so that a process renewing its own record (it is the record's only
// writer) writes it blind, in one Commit, rather than read-modify-write.
type memberVersions struct {
	mu sync.Mutex
	v  map[string]int64
}

func (s *Store) memberKey(id string) *datastore.Key {
	k := datastore.NameKey(s.memberKind, id, nil)
	k.Namespace = s.namespace
	return k
}

// PutMember implements store.Members: one Commit when this store wrote the
// record before, a Lookup and a Commit in a transaction otherwise.
func (s *Store) PutMember(ctx context.Context, m store.Member) (store.Member, error) {
	if m.ID == "" {
		return store.Member{}, errors.New("datastore: put member: empty id")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	key := s.memberKey(m.ID)
	s.members.mu.Lock()
	last, known := s.members.v[m.ID]
	s.members.mu.Unlock()
	if known {
		m.Version = last + 1
		if _, err := s.client.Put(ctx, key, &memberEntity{m: m}); err != nil {
			return store.Member{}, wrap(ctx, "put member", m.ID, err)
		}
	} else {
		_, err := s.client.RunInTransaction(ctx, func(tx *datastore.Transaction) error {
			var cur memberEntity
			if err := tx.Get(key, &cur); err != nil && !errors.Is(err, datastore.ErrNoSuchEntity) && !errors.Is(err, store.ErrBadMember) {
				return err
			}
			m.Version = cur.m.Version + 1
			_, err := tx.Put(key, &memberEntity{m: m})
			return err
		})
		if err != nil {
			return store.Member{}, wrap(ctx, "put member", m.ID, err)
		}
	}
	s.members.mu.Lock()
	s.members.v[m.ID] = m.Version
	s.members.mu.Unlock()
	return m, nil
}

// DeleteMember implements store.Members with one Commit.
func (s *Store) DeleteMember(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Delete(ctx, s.memberKey(id)); err != nil {
		return wrap(ctx, "delete member", id, err)
	}
	s.members.mu.Lock()
	delete(s.members.v, id)
	s.members.mu.Unlock()
	return nil
}

// ListMembers implements store.Members with one query of the member kind
// (strongly consistent in Firestore in Datastore mode and in the emulator).
func (s *Store) ListMembers(ctx context.Context) ([]store.Member, []error, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	q := datastore.NewQuery(s.memberKind).Namespace(s.namespace).Order("__key__")
	var ents []memberEntity
	keys, err := s.client.GetAll(ctx, q, &ents)
	var bad []error
	if err != nil {
		var multi datastore.MultiError
		var mismatch *datastore.ErrFieldMismatch
		switch {
		case errors.As(err, &multi):
			for i, e := range multi {
				if e != nil && i < len(keys) {
					bad = append(bad, fmt.Errorf("member %s: %w", keys[i].Name, e))
				}
			}
		case errors.As(err, &mismatch), errors.Is(err, store.ErrBadMember):
			bad = append(bad, err)
		default:
			return nil, nil, wrap(ctx, "list members", "", err)
		}
	}
	out := make([]store.Member, 0, len(ents))
	for i, e := range ents {
		if e.err != nil || i >= len(keys) {
			if e.err != nil {
				bad = append(bad, fmt.Errorf("member %s: %w", keys[i].Name, e.err))
			}
			continue
		}
		e.m.ID = keys[i].Name
		out = append(out, e.m)
	}
	return out, bad, nil
}

// Property names of a member entity.
const (
	propStarted     = "Started"
	propRenewed     = "Renewed"
	propOffsetNanos = "ClockOffsetNanos"
	propJobSet      = "JobSet"
	propJobs        = "Jobs"
)

// memberEntity is the stored form of a store.Member (without ID, the key's
// name). A record it cannot read keeps err and is reported, not fatal.
type memberEntity struct {
	m   store.Member
	err error
}

// fields are the record's properties, in the order they are saved.
func (e *memberEntity) fields() []field {
	m := &e.m
	return []field{
		{name: propNode, ptr: &m.Node},
		{name: propStarted, ptr: &m.Started},
		{name: propRenewed, ptr: &m.Renewed},
		{name: propTTLNanos, ptr: &m.TTL, noIndex: true},
		{name: propOffsetNanos, ptr: &m.ClockOffset, noIndex: true},
		{name: propJobSet, ptr: &m.JobSet, noIndex: true},
		{name: propJobs, ptr: &m.Jobs, noIndex: true},
		{name: propVersion, ptr: &m.Version, noIndex: true},
	}
}

// Load implements datastore.PropertyLoadSaver. Properties it does not know
// are ignored.
func (e *memberEntity) Load(props []datastore.Property) error {
	_, e.err = loadFields(props, e.fields(), store.ErrBadMember)
	if e.err == nil && (e.m.Version <= 0 || e.m.TTL <= 0) {
		e.err = fmt.Errorf("%w: Version %d and TTLNanos %d must be positive", store.ErrBadMember, e.m.Version, e.m.TTL)
	}
	return nil // reported through err, so that one bad record does not hide the others
}

// Save implements datastore.PropertyLoadSaver.
func (e *memberEntity) Save() ([]datastore.Property, error) {
	return saveFields(e.fields()), nil
}
