package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	cds "cloud.google.com/go/datastore"
	"google.golang.org/grpc/codes"

	"go-leader-election/emulator"
)

// These tests drive the whole daemon against the project's emulator and
// break the store under it: absent at start, failing commits, failing
// renewals, bad data, gone for good. Each checks the safe behaviour and
// the log line that explains it.

func datastoreEnv(addr string) map[string]string {
	return map[string]string{
		"DATASTORE_EMULATOR_HOST": addr, "DATASTORE_PROJECT_ID": "faults", "NODE_NAME": "solo",
		"GO_PREACHER_SCHEDULE": "@every 500ms", "SCALA_PREACHER_SCHEDULE": "@every 500ms",
		"STORE_TIMEOUT": "500ms",
	}
}

func isMsg(msg string) func(string, event) bool {
	return func(_ string, ev event) bool { return ev.Message == msg }
}

func TestStoreAbsentAtStartThenAppearsThenVanishes(t *testing.T) {
	skipShort(t)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	d := startDaemon(t, datastoreEnv(addr))

	// The outage is logged once, as such, naming the address tried.
	d.out.waitFor(t, "the outage logged", func(l string, ev event) bool {
		return ev.Message == "Store unavailable" && strings.Contains(l, `"level":"warn"`) && strings.Contains(l, addr)
	})
	if code := d.status(t, "/readyz"); code != 503 {
		t.Fatalf("/readyz with no store = %d, want 503", code)
	}
	if code := d.status(t, "/healthz"); code != 200 {
		t.Fatalf("/healthz with no store = %d, want 200: alive, just not ready", code)
	}

	emu, err := emulator.Start(addr, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.out.waitFor(t, "a run once the store appeared", isMsg("Running"))
	if code := d.status(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz with the store back = %d, want 200", code)
	}
	if !d.out.seen(isMsg("Store recovered")) { // it may have come before Running
		d.out.waitFor(t, "the recovery logged", isMsg("Store recovered"))
	}
	outages := 0
	for _, l := range d.out.snapshot() {
		var ev event
		_ = json.Unmarshal([]byte(l), &ev)
		switch {
		case ev.Message == "Store unavailable":
			outages++
		case ev.Message == "Store call failed", strings.Contains(l, "store unavailable"):
			t.Errorf("a failed call logged at info during a logged outage: %s", l)
		}
	}
	if outages != 1 {
		t.Errorf("%d Store unavailable events for one outage, want 1", outages)
	}

	emu.Close() // gone for good
	d.out.waitFor(t, "the second outage logged", isMsg("Store unavailable"))
	if code := d.status(t, "/readyz"); code != 503 {
		t.Fatalf("/readyz with the store gone = %d, want 503", code)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("run returned %v with the store gone, want a clean stop", err)
	}
}

func TestNoRunWithoutAStoredClaim(t *testing.T) {
	skipShort(t)
	emu, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	emu.Faults().Set(emulator.Fault{Method: "Commit", Code: codes.Unavailable})
	env := datastoreEnv(emu.Addr())
	env["GO_PREACHER_SCHEDULE"], env["SCALA_PREACHER_SCHEDULE"] = "@every 2s", "@every 2s" // room for retries
	env["LOG_LEVEL"] = "debug"                                                             // failed calls of a logged outage are debug
	d := startDaemon(t, env)

	// Claims fail: the node retries with backoff (attempt 2 comes after a
	// wait; the tick is given up before the next one), and runs nothing.
	attempts := map[int]bool{}
	for i := 0; !attempts[1] || !attempts[2]; i++ {
		if i == 50 {
			t.Fatalf("no second attempt after 50 failed claims: no retry")
		}
		line := ""
		d.out.waitFor(t, "failed claims", func(l string, ev event) bool {
			line = l
			if ev.Message == "Running" {
				t.Fatalf("a job ran although no claim could be stored: %s", l)
			}
			return ev.Message == "Store call failed" && strings.Contains(l, `"op":"claim"`)
		})
		for n := 1; n <= 2; n++ {
			if strings.Contains(line, `"attempt":`+strconv.Itoa(n)+`,`) {
				attempts[n] = true
			}
		}
	}
	if code := d.status(t, "/readyz"); code != 503 {
		t.Errorf("/readyz while every commit fails = %d, want 503", code)
	}

	emu.Faults().Clear()
	d.out.waitFor(t, "a run once commits work", isMsg("Running"))
	if code := d.status(t, "/readyz"); code != 200 {
		t.Errorf("/readyz after the store recovered = %d, want 200", code)
	}
}

func TestFailingRenewalsCancelTheRunBeforeTheLeaseLapses(t *testing.T) {
	skipShort(t)
	emu, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	env := datastoreEnv(emu.Addr())
	env["GO_PREACHER_SCHEDULE"], env["SCALA_PREACHER_SCHEDULE"] = "@every 2s", "@every 2s"
	env["PREACHER_TIMES"], env["PREACHER_PAUSE"] = "100", "100ms" // a 10 s run
	env["LEASE_DURATION"], env["RENEW_DEADLINE"], env["RETRY_PERIOD"] = "1500ms", "1s", "200ms"
	d := startDaemon(t, env)

	d.out.waitFor(t, "a run", isMsg("Running"))
	d.out.waitFor(t, "a sermon", func(l string, _ event) bool { return strings.HasSuffix(l, "language") || strings.HasSuffix(l, "JVM") })
	broke := time.Now()
	emu.Faults().Set(emulator.Fault{Method: "Commit", Code: codes.Unavailable})
	fin := d.out.waitFor(t, "a run ended by lost leadership", func(_ string, ev event) bool {
		return ev.Message == "Finished" && strings.Contains(ev.Error, "lost leadership")
	})
	if !d.out.seen(func(_ string, ev event) bool { return ev.Message == "Lost leadership" && ev.Job == fin.Job }) {
		t.Errorf("no Lost leadership event for %s", fin.Job)
	}
	// A peer could take over a TTL after the last write it saw, which came
	// before the store broke; no write of this run granted more than 2.5 s
	// (the claim: the next tick plus LEASE_GRACE; renewals: LEASE_DURATION).
	if limit := broke.Add(2500 * time.Millisecond); !fin.Time.Before(limit) {
		t.Errorf("run ended at %s, not before %s when a peer may take the lease", fin.Time, limit)
	}
}

func TestBadLeaseEntityIsReportedAndLeftAlone(t *testing.T) {
	skipShort(t)
	emu, err := emulator.Start("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ctx := context.Background()
	client, err := cds.NewClient(ctx, "faults", emu.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key := cds.NameKey("Lease", "go_preacher", nil)
	bad := cds.PropertyList{{Name: "Term", Value: "seven"}, {Name: "Holder", Value: "someone/else"}}
	if _, err := client.Put(ctx, key, &bad); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, datastoreEnv(emu.Addr()))
	d.out.waitFor(t, "the bad entity reported", func(l string, ev event) bool {
		if ev.Message == "Running" && ev.Job == "go_preacher" {
			t.Fatalf("go_preacher ran over an unreadable lease: %s", l)
		}
		return ev.Message == "Store unavailable" && ev.Job == "go_preacher" && strings.Contains(l, "Term")
	})
	d.out.waitFor(t, "the other job running", func(_ string, ev event) bool { return ev.Message == "Running" && ev.Job == "scala_preacher" })
	var after cds.PropertyList
	if err := client.Get(ctx, key, &after); err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Value != bad[0].Value && after[1].Value != bad[0].Value {
		t.Errorf("the bad entity was changed: %v", after)
	}
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon against a real store for seconds")
	}
}
