package datastore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	cds "cloud.google.com/go/datastore"

	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
	"go-leader-election/store/storetest"
)

func TestMembersConformance(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "members"})
	storetest.RunMembers(t, func(*testing.T) store.Members { return s })
}

// TestMemberRenewalIsOneCommit: a process renewing its own record writes it
// blind, one RPC; listing is one query.
func TestMemberRenewalIsOneCommit(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "member-rpcs"})
	ctx := context.Background()
	m := store.Member{ID: "a/1", Node: "a", Renewed: time.Now(), TTL: 6 * time.Second}
	if _, err := s.PutMember(ctx, m); err != nil {
		t.Fatal(err)
	}
	got := rpcs(t, s, func() {
		if _, err := s.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	})
	if len(got) != 1 || got["Commit"] != 1 {
		t.Errorf("renewing a member record made %v, want one Commit", got)
	}
	got = rpcs(t, s, func() {
		if _, _, err := s.ListMembers(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if len(got) != 1 || got["RunQuery"] != 1 {
		t.Errorf("listing members made %v, want one RunQuery", got)
	}
}

// TestBadMemberRecordIsReportedAndSkipped: a hand-edited record is left
// out of the list and reported, never an error of the whole list.
func TestBadMemberRecordIsReportedAndSkipped(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "bad-members"})
	ctx := context.Background()
	if _, err := s.PutMember(ctx, store.Member{ID: "good/1", Node: "good", Renewed: time.Now(), TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	client := rawClient(t)
	key := cds.NameKey("Member", "bad/1", nil)
	key.Namespace = "bad-members"
	bad := cds.PropertyList{{Name: "Node", Value: int64(7)}, {Name: "Version", Value: "two"}}
	if _, err := client.Put(ctx, key, &bad); err != nil {
		t.Fatal(err)
	}
	members, problems, err := s.ListMembers(ctx)
	if err != nil {
		t.Fatalf("ListMembers with a bad record: %v", err)
	}
	if len(members) != 1 || members[0].ID != "good/1" {
		t.Fatalf("members %+v, want only good/1", members)
	}
	if len(problems) != 1 || !errors.Is(problems[0], store.ErrBadMember) {
		t.Fatalf("problems %v, want one ErrBadMember", problems)
	}
}

// TestClockOffsetFromCommitTimes: the emulator runs on this machine's
// clock, so the estimate is within its uncertainty of zero.
func TestClockOffsetFromCommitTimes(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "clock"})
	if _, _, ok := s.ClockOffset(); ok {
		t.Fatal("an offset before any commit")
	}
	if _, err := s.PutMember(context.Background(), store.Member{ID: "c/1", Node: "c", TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	off, unc, ok := s.ClockOffset()
	if !ok {
		t.Fatal("no offset after a commit")
	}
	if off < -unc-time.Millisecond || off > unc+time.Millisecond {
		t.Fatalf("offset %s ± %s against an emulator on the same clock, want about 0", off, unc)
	}
}
