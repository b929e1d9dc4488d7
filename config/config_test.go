package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.LogFormat != "json" || c.Store != StoreMemory || c.Jobs.PreacherTimes != 5 ||
		c.Jobs.PreacherPause != time.Second || c.Timing.ShutdownTimeout != 25*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	for _, job := range []string{"go_preacher", "scala_preacher"} {
		s, ok := c.Schedules[job]
		if !ok {
			t.Fatalf("no schedule for %s", job)
		}
		// A newcomer sees a run within 10 s of start.
		now := time.Now()
		if next := s.Schedule.Next(now); next.Sub(now) > 10*time.Second {
			t.Errorf("%s's default schedule %q first ticks %s after start", job, s.Spec, next.Sub(now))
		}
	}
}

func TestOverrides(t *testing.T) {
	c, err := Load(env(map[string]string{
		"APP_PORT": "0", "APP_STAGE": "local", "GO_PREACHER_SCHEDULE": "@every 1s",
		"SCALA_PREACHER_SCHEDULE": "CRON_TZ=Europe/Paris */5 * * * * *", "PREACHER_TIMES": "1",
		"CLOCK_OFFSET": "-700ms", "DATASTORE_EMULATOR_HOST": "localhost:8081", "DATASTORE_PROJECT_ID": "p",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 0 || c.LogFormat != "console" || c.Schedules["go_preacher"].Spec != "@every 1s" ||
		c.ClockOffset != -700*time.Millisecond || c.Store != StoreDatastore ||
		c.StoreReason != "DATASTORE_EMULATOR_HOST is set" || c.Datastore.Kind != "Lease" {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"APP_PORT": "abc"}, []string{"APP_PORT", `"abc"`}},
		{map[string]string{"APP_PORT": "70000"}, []string{"APP_PORT", "70000"}},
		{map[string]string{"GO_PREACHER_SCHEDULE": "every tuesday-ish"}, []string{"GO_PREACHER_SCHEDULE", "go_preacher", "every tuesday-ish"}},
		{map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, []string{"SHUTDOWN_TIMEOUT", "soon"}},
		{map[string]string{"LEASE_DURATION": "-1s"}, []string{"LEASE_DURATION", "-1s"}},
		{map[string]string{"STORE": "redis"}, []string{"STORE", "redis"}},
		{map[string]string{"LOG_FORMAT": "xml"}, []string{"LOG_FORMAT", "xml"}},
		{map[string]string{"PREACHER_TIMES": "many"}, []string{"PREACHER_TIMES", "many"}},
		{map[string]string{"LEASE_DURATION": "5s"}, []string{"LEASE_DURATION 5s", "RENEW_DEADLINE 10s"}},
		{map[string]string{"STORE": "datastore"}, []string{"DATASTORE_PROJECT_ID"}},
	} {
		_, err := Load(env(tc.env))
		if err == nil {
			t.Errorf("Load(%v) succeeded, want an error", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%v) = %q, want it to mention %s", tc.env, err, w)
			}
		}
	}
}

func TestHistoryLimitAndAdminToken(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.HistoryLimit != 50 || c.AdminToken != "" {
		t.Fatalf("defaults: HISTORY_LIMIT %d, ADMIN_TOKEN %q, %v; want 50 and none (actions off)", c.HistoryLimit, c.AdminToken, err)
	}
	c, err = Load(env(map[string]string{"HISTORY_LIMIT": "0", "ADMIN_TOKEN": "0123456789abcdef0123"}))
	if err != nil || c.HistoryLimit != 0 || c.AdminToken != "0123456789abcdef0123" {
		t.Fatalf("HISTORY_LIMIT=0 and a token: %d, %q, %v", c.HistoryLimit, c.AdminToken, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HISTORY_LIMIT": "-1"}, "HISTORY_LIMIT"},
		{map[string]string{"HISTORY_LIMIT": "501"}, "from 0 to 500"},
		{map[string]string{"HISTORY_LIMIT": "lots"}, "HISTORY_LIMIT"},
		{map[string]string{"ADMIN_TOKEN": "short-secret"}, "at least 16"},
		{map[string]string{"ADMIN_TOKEN": "a token with spaces in it"}, "spaces"},
		{map[string]string{"ADMIN_TOKEN": "0123456789abcdef\n"}, "control characters"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error saying %q", tc.env, err, tc.want)
			continue
		}
		if v := tc.env["ADMIN_TOKEN"]; v != "" && strings.Contains(err.Error(), strings.TrimSpace(v)) {
			t.Errorf("the error %q repeats the secret", err)
		}
	}
}
