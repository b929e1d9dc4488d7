package datastore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cds "cloud.google.com/go/datastore"

	"go-leader-election/emulator"
	"go-leader-election/store"
	dsstore "go-leader-election/store/datastore"
	"go-leader-election/store/storetest"
)

const project = "test-project"

// emu is the one emulator the whole test binary uses.
var emu *emulator.Server

func TestMain(m *testing.M) {
	// The tests reach the emulator through Config.ClientOptions only.
	os.Unsetenv("DATASTORE_EMULATOR_HOST")
	srv, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start emulator:", err)
		os.Exit(1)
	}
	emu = srv
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// newStore returns a store on the emulator, closed when t ends.
func newStore(t testing.TB, cfg dsstore.Config) *dsstore.Store {
	t.Helper()
	if cfg.Project == "" {
		cfg.Project = project
	}
	cfg.ClientOptions = append(cfg.ClientOptions, emu.ClientOptions()...)
	s, err := dsstore.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient returns a plain client on the emulator, for writing and reading
// entities behind the store's back.
func rawClient(t *testing.T) *cds.Client {
	t.Helper()
	c, err := cds.NewClient(context.Background(), project, emu.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var jobSeq atomic.Int64

func jobName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), jobSeq.Add(1))
}

var base = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func claimReq(job, node string, tick int, lapsed int64) store.ClaimRequest {
	at := base.Add(time.Duration(tick) * time.Second)
	return store.ClaimRequest{
		Job: job, Holder: node + "/x", Node: node, Tick: at,
		TTL: 1500 * time.Millisecond, Now: at, LapsedVersion: lapsed,
	}
}

func TestConformance(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "conformance"})
	storetest.Run(t, func(*testing.T) store.Store { return s })
}

// TestConformanceNamedDatabase runs the suite again on a named database with
// a custom kind.
func TestConformanceNamedDatabase(t *testing.T) {
	s := newStore(t, dsstore.Config{Database: "leases-db", Kind: "JobLease"})
	storetest.Run(t, func(*testing.T) store.Store { return s })
}

func TestHistoryConformance(t *testing.T) {
	storetest.RunHistory(t, func(t *testing.T, limit int) store.History {
		return newStore(t, dsstore.Config{Namespace: "history", HistoryLimit: limit})
	})
}

func TestControlConformance(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "control"})
	storetest.RunControl(t, func(*testing.T) storetest.Backend { return s })
}

// rpcs runs fn and returns the RPCs it made, by method.
func rpcs(t *testing.T, s *dsstore.Store, fn func()) map[string]int64 {
	t.Helper()
	before := s.Calls().Snapshot()
	fn()
	diff := map[string]int64{}
	for m, n := range s.Calls().Snapshot() {
		if d := n - before[m]; d != 0 {
			diff[m] = d
		}
	}
	return diff
}

func TestRPCBudget(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "budget"})
	ctx := context.Background()
	job := jobName("budget")
	var held store.Lease
	steps := []struct {
		name string
		fn   func() error
		want map[string]int64
	}{
		{"Get of a missing job", func() error {
			if _, err := s.Get(ctx, job); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("got %v, want ErrNotFound", err)
			}
			return nil
		}, map[string]int64{"Lookup": 1}},
		{"first Claim", func() (err error) {
			held, err = s.Claim(ctx, claimReq(job, "a", 1, 0))
			return err
		}, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"Get", func() error {
			_, err := s.Get(ctx, job)
			return err
		}, map[string]int64{"Lookup": 1}},
		{"Claim of the next tick", func() (err error) {
			held, err = s.Claim(ctx, claimReq(job, "a", 2, 0))
			return err
		}, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"refused Claim", func() error {
			if _, err := s.Claim(ctx, claimReq(job, "b", 3, 0)); !errors.Is(err, store.ErrHeld) {
				return fmt.Errorf("got %v, want ErrHeld", err)
			}
			return nil
		}, map[string]int64{"Lookup": 1, "Rollback": 1}},
		{"Renew", func() error {
			_, err := s.Renew(ctx, store.RenewRequest{Job: job, Holder: "a/x", Term: held.Term, TTL: time.Second, Now: base})
			return err
		}, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"Release", func() error {
			return s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "a/x", Term: held.Term})
		}, map[string]int64{"Lookup": 1, "Commit": 1}},
		{"Ping", func() error { return s.Ping(ctx) }, map[string]int64{"Lookup": 1}},
	}
	for _, st := range steps {
		var err error
		server := emu.Calls()
		got := rpcs(t, s, func() { err = st.fn() })
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !maps.Equal(got, st.want) {
			t.Errorf("%s made RPCs %v, want %v", st.name, got, st.want)
		}
		// The server agrees (no other test runs meanwhile).
		for m, n := range emu.Calls() {
			if d := n - server[m]; d != got[m] {
				t.Errorf("%s: the emulator received %d %s, the counter says %d", st.name, d, m, got[m])
			}
		}
		t.Logf("%s: %v", st.name, got)
	}
}

func TestCallsCodesAndObserver(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "calls"})
	var seen atomic.Int64
	s.Calls().SetObserver(func(method, code string, d time.Duration) {
		if method == "Lookup" && code == "OK" && d > 0 {
			seen.Add(1)
		}
	})
	total := s.Calls().Total()
	if _, err := s.Get(context.Background(), jobName("calls")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	if got := s.Calls().Total() - total; got != 1 {
		t.Errorf("Total grew by %d, want 1", got)
	}
	if seen.Load() != 1 {
		t.Errorf("observer saw %d OK Lookups, want 1", seen.Load())
	}
	st := s.Calls().Stats()["Lookup"]
	if st.Calls < 1 || st.Codes["OK"] != st.Calls || st.Time <= 0 {
		t.Errorf("Lookup stats %+v, want every call OK and some time", st)
	}
	s.Calls().SetObserver(nil)
}

// TestIsolation: stores on different namespaces, databases or kinds share
// nothing, even for the same job name.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	job := jobName("iso")
	a := newStore(t, dsstore.Config{Namespace: "ns-a"})
	others := map[string]*dsstore.Store{
		"another namespace":      newStore(t, dsstore.Config{Namespace: "ns-b"}),
		"the default namespace":  newStore(t, dsstore.Config{}),
		"a named database":       newStore(t, dsstore.Config{Database: "other-db", Namespace: "ns-a"}),
		"another kind":           newStore(t, dsstore.Config{Namespace: "ns-a", Kind: "OtherLease"}),
		"another named database": newStore(t, dsstore.Config{Database: "third-db", Namespace: "ns-a"}),
	}
	if _, err := a.Claim(ctx, claimReq(job, "a", 5, 0)); err != nil {
		t.Fatalf("Claim in ns-a: %v", err)
	}
	for name, o := range others {
		if _, err := o.Get(ctx, job); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Get = %v, want ErrNotFound", name, err)
		}
		got, err := o.Claim(ctx, claimReq(job, "b", 1, 0))
		if err != nil {
			t.Fatalf("%s: Claim: %v", name, err)
		}
		if got.Term != 1 || got.Version != 1 || got.Holder != "b/x" {
			t.Errorf("%s: first claim = %+v, want b/x at term 1, version 1", name, got)
		}
	}
	got, err := a.Get(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if got.Holder != "a/x" || got.Version != 1 {
		t.Errorf("ns-a after the others claimed: %+v, want a/x at version 1", got)
	}
}

// TestBadEntity: an entity of the kind written by something else, with Term
// a string, is reported (naming the job and the property) and left alone.
func TestBadEntity(t *testing.T) {
	ctx := context.Background()
	raw := rawClient(t)
	s := newStore(t, dsstore.Config{Namespace: "bad"})
	job := jobName("bad")
	key := cds.NameKey("Lease", job, nil)
	key.Namespace = "bad"
	orig := cds.PropertyList{
		{Name: "Holder", Value: "someone"},
		{Name: "Node", Value: "n"},
		{Name: "Term", Value: "three"},
		{Name: "Tick", Value: base},
		{Name: "Version", Value: int64(4)},
	}
	if _, err := raw.Put(ctx, key, &orig); err != nil {
		t.Fatalf("raw Put: %v", err)
	}

	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s of a bad entity succeeded", what)
		}
		if !errors.Is(err, dsstore.ErrBadEntity) || !strings.Contains(err.Error(), job) || !strings.Contains(err.Error(), "Term") {
			t.Errorf("%s: error %q, want one matching ErrBadEntity naming %s and Term", what, err, job)
		}
		for _, sentinel := range []error{store.ErrNotFound, store.ErrTickTaken, store.ErrHeld, store.ErrNotHolder} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s: error %q matches %v", what, err, sentinel)
			}
		}
		t.Logf("%s: %v", what, err)
	}
	_, err := s.Get(ctx, job)
	check("Get", err)
	_, err = s.Claim(ctx, claimReq(job, "a", 10, 4))
	check("Claim", err)
	_, err = s.Renew(ctx, store.RenewRequest{Job: job, Holder: "someone", Term: 0, TTL: time.Second, Now: base})
	check("Renew", err)
	check("Release", s.Release(ctx, store.ReleaseRequest{Job: job, Holder: "someone", Term: 0}))

	var after cds.PropertyList
	if err := raw.Get(ctx, key, &after); err != nil {
		t.Fatalf("raw Get: %v", err)
	}
	if !sameProps(orig, after) {
		t.Errorf("entity changed:\n got %v\nwant %v", after, orig)
	}
}

func sameProps(a, b cds.PropertyList) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]any{}
	for _, p := range a {
		m[p.Name] = p.Value
	}
	for _, p := range b {
		want, ok := m[p.Name]
		if !ok {
			return false
		}
		if wt, ok := want.(time.Time); ok {
			if gt, ok := p.Value.(time.Time); !ok || !gt.Equal(wt) {
				return false
			}
			continue
		}
		if want != p.Value {
			return false
		}
	}
	return true
}

// TestUnknownPropertiesKept: properties the store does not know survive its
// writes, and a missing property reads as zero.
func TestUnknownPropertiesKept(t *testing.T) {
	ctx := context.Background()
	raw := rawClient(t)
	s := newStore(t, dsstore.Config{Namespace: "extra"})
	job := jobName("extra")
	key := cds.NameKey("Lease", job, nil)
	key.Namespace = "extra"
	orig := cds.PropertyList{
		{Name: "Holder", Value: "a/x"},
		{Name: "Node", Value: "a"},
		{Name: "Term", Value: int64(2)},
		{Name: "Tick", Value: base},
		{Name: "Version", Value: int64(7)},
		{Name: "Owner", Value: "team-x"},
	}
	if _, err := raw.Put(ctx, key, &orig); err != nil {
		t.Fatalf("raw Put: %v", err)
	}
	got, err := s.Get(ctx, job)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Job != job || got.Term != 2 || got.Version != 7 || got.TTL != 0 || !got.Expires.IsZero() || !got.Tick.Equal(base) {
		t.Fatalf("Get = %+v", got)
	}
	if _, err := s.Claim(ctx, claimReq(job, "a", 1, 0)); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	var after cds.PropertyList
	if err := raw.Get(ctx, key, &after); err != nil {
		t.Fatalf("raw Get: %v", err)
	}
	var owner any
	for _, p := range after {
		if p.Name == "Owner" {
			owner = p.Value
		}
	}
	if owner != "team-x" {
		t.Errorf("Owner after a claim = %v, want team-x; entity %v", owner, after)
	}
}

// TestFullPrecision: every field round-trips; times to the microsecond.
func TestFullPrecision(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, dsstore.Config{Namespace: "precision"})
	job := jobName("precision")
	req := claimReq(job, "a", 1, 0)
	req.Tick = req.Tick.Add(123456 * time.Microsecond)
	req.TTL = 1234567891 * time.Nanosecond
	req.Now = req.Tick
	want, err := s.Claim(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if got.TTL != req.TTL || !got.Tick.Equal(req.Tick) || !got.Expires.Equal(want.Expires) || want.Expires.Nanosecond()%1000 != 0 {
		t.Errorf("Get = %+v, want TTL %v, tick %v", got, req.TTL, req.Tick)
	}
}

func TestEmptyJobName(t *testing.T) {
	s := newStore(t, dsstore.Config{Namespace: "empty"})
	if _, err := s.Get(context.Background(), ""); err == nil {
		t.Error("Get of an empty job name succeeded")
	}
	if _, err := s.Claim(context.Background(), claimReq("", "a", 1, 0)); err == nil {
		t.Error("Claim of an empty job name succeeded")
	}
}

// TestNewNeedsProject: the project comes from Config alone; the package
// reads no environment (the daemon's backend reads the variables).
func TestNewNeedsProject(t *testing.T) {
	t.Setenv("DATASTORE_PROJECT_ID", project)
	t.Setenv("GOOGLE_CLOUD_PROJECT", project)
	if _, err := dsstore.New(context.Background(), dsstore.Config{ClientOptions: emu.ClientOptions()}); err == nil {
		t.Fatal("New without Config.Project succeeded")
	}
	s, err := dsstore.New(context.Background(), dsstore.Config{Project: project, Namespace: "env", ClientOptions: emu.ClientOptions()})
	if err != nil {
		t.Fatalf("New with Config.Project: %v", err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestEmulatorHostEnv: the daemon's way in, with only the environment.
func TestEmulatorHostEnv(t *testing.T) {
	t.Setenv("DATASTORE_EMULATOR_HOST", emu.Addr())
	s, err := dsstore.New(context.Background(), dsstore.Config{Project: project, Namespace: "env-host"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer s.Close()
	job := jobName("env")
	var got store.Lease
	calls := rpcs(t, s, func() { got, err = s.Claim(context.Background(), claimReq(job, "a", 1, 0)) })
	if err != nil || got.Version != 1 {
		t.Fatalf("Claim = %+v, %v", got, err)
	}
	if want := map[string]int64{"Lookup": 1, "Commit": 1}; !maps.Equal(calls, want) {
		t.Errorf("Claim made RPCs %v, want %v", calls, want)
	}
}
