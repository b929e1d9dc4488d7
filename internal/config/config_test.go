package config

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go-leader-election/internal/envconfig"
	"go-leader-election/internal/schedulers"
	"go-leader-election/jobs"
	"go-leader-election/store"
	"go-leader-election/store/datastore"
	_ "go-leader-election/store/memory"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := loadWithJobs(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.LogFormat != "json" || c.Store != "memory" || c.Jobs.PreacherTimes != 5 ||
		c.Jobs.PreacherPause != time.Second || c.Timing.ShutdownTimeout != 25*time.Second ||
		!c.Balance || c.MemberPeriod != 2*time.Second {
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
	c, err := loadWithJobs(env(map[string]string{
		"APP_PORT": "0", "APP_STAGE": "local", "GO_PREACHER_SCHEDULE": "@every 1s",
		"SCALA_PREACHER_SCHEDULE": "CRON_TZ=Europe/Paris */5 * * * * *", "PREACHER_TIMES": "1",
		"CLOCK_OFFSET": "-700ms", "DATASTORE_EMULATOR_HOST": "localhost:8081", "DATASTORE_PROJECT_ID": "p",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 0 || c.LogFormat != "console" || c.Schedules["go_preacher"].Spec != "@every 1s" ||
		c.ClockOffset != -700*time.Millisecond || c.Store != "datastore" ||
		c.StoreReason != "DATASTORE_EMULATOR_HOST is set" || c.Backend.(*datastore.Settings).Kind != "Lease" {
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
		{map[string]string{"LEASE_DURATION": "2s"}, []string{"LEASE_DURATION 2s", "RENEW_DEADLINE 2s"}},
		{map[string]string{"STORE": "datastore"}, []string{"DATASTORE_PROJECT_ID"}},
		// Names Datastore (or logs) would refuse.
		{map[string]string{"NODE_NAME": "my node"}, []string{"NODE_NAME", `"my node"`, "pod name"}},
		{map[string]string{"NODE_NAME": "a\x1b[31mb"}, []string{"NODE_NAME", `"a\x1b[31mb"`}},
		{map[string]string{"NODE_NAME": "alpha/1"}, []string{"NODE_NAME", `"alpha/1"`}},
		{map[string]string{"NODE_NAME": strings.Repeat("n", 2000)}, []string{"NODE_NAME", `"nnnn`, "(2000 bytes)"}},
		{map[string]string{"NODE_NAME": strings.Repeat("n", envconfig.MaxNodeName+1)}, []string{"NODE_NAME", "253"}},
		{map[string]string{"APP_STAGE": "pr\nod"}, []string{"APP_STAGE", `"pr\nod"`}},
		{map[string]string{"DATASTORE_PROJECT_ID": "My Project"}, []string{"DATASTORE_PROJECT_ID", `"My Project"`}},
		{map[string]string{"GOOGLE_CLOUD_PROJECT": "UPPER"}, []string{"GOOGLE_CLOUD_PROJECT", `"UPPER"`}},
		{map[string]string{"DATASTORE_DATABASE": "DB_1"}, []string{"DATASTORE_DATABASE", `"DB_1"`}},
		{map[string]string{"DATASTORE_DATABASE": "db"}, []string{"DATASTORE_DATABASE", `"db"`}},
		{map[string]string{"DATASTORE_NAMESPACE": "my namespace"}, []string{"DATASTORE_NAMESPACE", `"my namespace"`}},
		{map[string]string{"DATASTORE_NAMESPACE": "__kind__"}, []string{"DATASTORE_NAMESPACE", `"__kind__"`}},
		{map[string]string{"DATASTORE_KIND": "__Lease__"}, []string{"DATASTORE_KIND", `"__Lease__"`}},
		{map[string]string{"DATASTORE_KIND": "Le\nase"}, []string{"DATASTORE_KIND", `"Le\nase"`}},
		// DATASTORE_EMULATOR_HOST: host:port, as the client dials it.
		{map[string]string{"DATASTORE_EMULATOR_HOST": "nohost:99999", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST", `"nohost:99999"`, "65535"}},
		{map[string]string{"DATASTORE_EMULATOR_HOST": "http://localhost:8099", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST", `"http://localhost:8099"`, "without http://"}},
		{map[string]string{"DATASTORE_EMULATOR_HOST": "localhost", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST", `"localhost"`, "host:port"}},
		{map[string]string{"DATASTORE_EMULATOR_HOST": ":8081", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST", `":8081"`, "host:port"}},
		{map[string]string{"DATASTORE_EMULATOR_HOST": "localhost:0", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST", `"localhost:0"`}},
		{map[string]string{"DATASTORE_EMULATOR_HOST": "localhost:8081/datastore", "DATASTORE_PROJECT_ID": "p"}, []string{"DATASTORE_EMULATOR_HOST"}},
		// The user never set STORE: the error says what chose Datastore.
		{map[string]string{"DATASTORE_EMULATOR_HOST": "localhost:8081"}, []string{"DATASTORE_EMULATOR_HOST is set, so STORE=datastore", "DATASTORE_PROJECT_ID"}},
	} {
		_, err := loadWithJobs(env(tc.env))
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

func TestNamesDatastoreAccepts(t *testing.T) {
	c, err := loadWithJobs(env(map[string]string{
		"NODE_NAME": "go-leader-election-5d9c7b6f4-x2k8q", "APP_STAGE": "staging eu",
		"DATASTORE_EMULATOR_HOST": " [::1]:8081 ", "DATASTORE_PROJECT_ID": "example.com:my-project",
		"DATASTORE_DATABASE": "(default)", "DATASTORE_NAMESPACE": "staging", "DATASTORE_KIND": "Lease v2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Backend.(*datastore.Settings); d.EmulatorHost != "[::1]:8081" || d.Address() != "[::1]:8081" {
		t.Errorf("emulator host %q, address %q, want [::1]:8081", d.EmulatorHost, d.Address())
	}
	for _, node := range []string{strings.Repeat("a", envconfig.MaxNodeName), "confident_meitner", "alpha.example.com", "N1"} {
		if _, err := loadWithJobs(env(map[string]string{"NODE_NAME": node})); err != nil {
			t.Errorf("NODE_NAME=%s: %v", node, err)
		}
	}
	for _, db := range []string{"my-db", "prod", "a123"} {
		if _, err := loadWithJobs(env(map[string]string{"DATASTORE_DATABASE": db})); err != nil {
			t.Errorf("DATASTORE_DATABASE=%s: %v", db, err)
		}
	}
	if c, _ := loadWithJobs(env(map[string]string{"DATASTORE_PROJECT_ID": "p"})); c.Backend.Address() != datastore.ProductionAddress {
		t.Errorf("address without an emulator: %q, want %s", c.Backend.Address(), datastore.ProductionAddress)
	}
	if c, _ := loadWithJobs(env(nil)); c.Backend.Address() != "" || c.Backend.Describe() != "memory store" {
		t.Errorf("the embedded store: address %q, %q", c.Backend.Address(), c.Backend.Describe())
	}
}

func TestMisspeltScheduleVariable(t *testing.T) {
	for _, name := range []string{
		"GO_PREACHR_SCHEDULE",  // a letter left out
		"GO_PREAHCER_SCHEDULE", // two swapped
		"GO_PREACHER_SHEDULE",  // in the suffix
		"go_preacher_schedule", // case
		"GO_PREACHERS_SCHEDULE",
		"SCALA_PRECHR_SCHEDULE", // two edits
	} {
		e := map[string]string{name: "@every 1s"}
		_, err := loadWithJobs(env(e), name+"=@every 1s", "HOME=/root")
		if err == nil {
			t.Errorf("%s: Load succeeded, want an error", name)
			continue
		}
		job := "GO_PREACHER_SCHEDULE"
		if strings.HasPrefix(strings.ToUpper(name), "SCALA") {
			job = "SCALA_PREACHER_SCHEDULE"
		}
		for _, w := range []string{name, `"@every 1s"`, "did you mean " + job} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q, want it to mention %s", name, err, w)
			}
		}
		// Without the environment's names, the variable cannot be seen.
		if _, err := loadWithJobs(env(e)); err != nil {
			t.Errorf("%s without environ: %v", name, err)
		}
	}
	// Other programs' variables, and exact ones, are left alone.
	environ := []string{"GO_PREACHER_SCHEDULE=@every 1s", "SCALA_PREACHER_SCHEDULE=@every 2s", "BACKUP_SCHEDULE=daily",
		"GO_SCHEDULE=x", "PREACHER_SCHEDULE=x", "GO_PREACHER_TIMEOUT=1s", "SCHEDULE=x", "=C:=C:\\", "NOEQUALS"}
	e := map[string]string{"GO_PREACHER_SCHEDULE": "@every 1s", "SCALA_PREACHER_SCHEDULE": "@every 2s"}
	if _, err := loadWithJobs(env(e), environ...); err != nil {
		t.Errorf("Load with other programs' variables: %v", err)
	}
}

func TestMisspeltScalesWithTheName(t *testing.T) {
	for _, tc := range []struct {
		jobs    []string
		environ string
		typo    bool
	}{
		{[]string{"ab"}, "AC_SCHEDULE=x", false}, // too short to guess
		{[]string{"ab"}, "ab_SCHEDULE=x", true},  // but case is a typo
		{[]string{"sync"}, "SYNK_SCHEDULE=x", true},
		{[]string{"sync"}, "SYMK_SCHEDULE=x", false},
		{[]string{"report1", "report2"}, "REPORT2_SCHEDULE=x", false}, // another job's own
		{[]string{"report1"}, "REPORT2_SCHEDULE=x", true},
		{[]string{"nightly_report"}, "NIGHTLY_REPROT_SCHEDULE=x", true},
		{[]string{"nightly_report"}, "NIGHTLY_IMPORTS_SCHEDULE=x", false}, // three edits
	} {
		err := Misspelt([]string{tc.environ}, tc.jobs)
		if (err != nil) != tc.typo {
			t.Errorf("Misspelt(%s, jobs %v) = %v, want a typo: %v", tc.environ, tc.jobs, err, tc.typo)
		}
	}
}

func TestBalanceSettings(t *testing.T) {
	c, err := loadWithJobs(env(map[string]string{"BALANCE": "false", "MEMBER_PERIOD": "5s"}))
	if err != nil || c.Balance || c.MemberPeriod != 5*time.Second {
		t.Fatalf("BALANCE=false MEMBER_PERIOD=5s: %+v, %v", c, err)
	}
	for v, want := range map[string]string{"BALANCE=yes please": "BALANCE", "MEMBER_PERIOD=2m": "MEMBER_PERIOD", "MEMBER_PERIOD=100ms": "100ms"} {
		name, value, _ := strings.Cut(v, "=")
		if _, err := loadWithJobs(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", v, err, want)
		}
	}
}

func TestHistoryLimitAndAdminToken(t *testing.T) {
	c, err := loadWithJobs(env(nil))
	if err != nil || c.HistoryLimit != 50 || c.AdminToken != "" {
		t.Fatalf("defaults: HISTORY_LIMIT %d, ADMIN_TOKEN %q, %v; want 50 and none (actions off)", c.HistoryLimit, c.AdminToken, err)
	}
	c, err = loadWithJobs(env(map[string]string{"HISTORY_LIMIT": "0", "ADMIN_TOKEN": "0123456789abcdef0123"}))
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
		_, err := loadWithJobs(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error saying %q", tc.env, err, tc.want)
			continue
		}
		if v := tc.env["ADMIN_TOKEN"]; v != "" && strings.Contains(err.Error(), strings.TrimSpace(v)) {
			t.Errorf("the error %q repeats the secret", err)
		}
	}
}

// fakeSettings is a backend this test registers, as a new backend package
// would: config needs no edit to offer it.
type fakeSettings struct{ url string }

func (fakeSettings) Open(context.Context, store.OpenOptions) (store.Store, error) { return nil, nil }
func (f fakeSettings) Describe() string                                           { return "fake at " + f.url }
func (f fakeSettings) Address() string                                            { return f.url }

func registerFake() {
	store.Register(store.Backend{
		Name: "faketest",
		Implied: func(getenv func(string) string) string {
			if getenv("FAKETEST_URL") != "" {
				return "FAKETEST_URL is set"
			}
			return ""
		},
		Configure: func(getenv func(string) string, _ string) (store.Settings, error) {
			if u := getenv("FAKETEST_URL"); u != "" && !strings.HasPrefix(u, "fake://") {
				return nil, fmt.Errorf("FAKETEST_URL: bad value %q: want fake://...", u)
			}
			return fakeSettings{getenv("FAKETEST_URL")}, nil
		},
	})
}

func TestABackendRegistersItself(t *testing.T) {
	if _, done := store.Lookup("faketest"); !done { // once per process, as from an init
		registerFake()
	}
	c, err := loadWithJobs(env(map[string]string{"FAKETEST_URL": "fake://x"}))
	if err != nil || c.Store != "faketest" || c.StoreReason != "FAKETEST_URL is set" || c.Backend.Describe() != "fake at fake://x" {
		t.Fatalf("an implied backend: %+v, %v", c, err)
	}
	if _, err := loadWithJobs(env(map[string]string{"STORE": "faketest", "FAKETEST_URL": "http://x"})); err == nil || !strings.Contains(err.Error(), "FAKETEST_URL") {
		t.Fatalf("a bad backend setting: %v, want an error naming FAKETEST_URL", err)
	}
	if _, err := loadWithJobs(env(map[string]string{"STORE": "nosuch"})); err == nil || !strings.Contains(err.Error(), "faketest") {
		t.Fatalf("STORE=nosuch: %v, want an error listing the backends", err)
	}
}

// loaded is the configuration and the registered jobs' schedules, as the
// daemon reads them.
type loaded struct {
	Config
	Schedules map[string]Schedule
}

func loadWithJobs(getenv func(string) string, environ ...string) (loaded, error) {
	c, err := Load(getenv)
	if err != nil {
		return loaded{}, err
	}
	var names []string
	defaults := map[string]string{}
	for _, j := range jobs.Builtin(c.Jobs, true) {
		names = append(names, j.Name)
		defaults[j.Name] = j.Schedule
	}
	s, err := Schedules(getenv, environ, names, defaults)
	return loaded{c, s}, err
}

// The daemon's lease timing and STORE_TIMEOUT (shared with serve) have one
// default.
func TestStoreTimeoutDefaultIsTheTimings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d := schedulers.DefaultTiming().StoreTimeout; envconfig.DefaultStoreTimeout != d || c.Timing.StoreTimeout != d || c.StoreTimeout != d {
		t.Fatalf("STORE_TIMEOUT default %s, Timing %s and %s, want schedulers.DefaultTiming's %s", envconfig.DefaultStoreTimeout, c.Timing.StoreTimeout, c.StoreTimeout, d)
	}
}
