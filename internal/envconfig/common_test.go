package envconfig

import (
	"strings"
	"testing"

	_ "go-leader-election/store/backends"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCommonDefaults(t *testing.T) {
	p := NewParser(env(nil))
	c := LoadCommon(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if c.Port != DefaultPort || c.LogFormat != "json" || c.LogLevel != "info" || c.Store != "memory" ||
		c.StoreTimeout != DefaultStoreTimeout || c.Backend == nil || c.Backend.Address() != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestCommonValues(t *testing.T) {
	p := NewParser(env(map[string]string{"APP_PORT": "0", "APP_STAGE": "local", "STORE_TIMEOUT": "750ms",
		"LOG_LEVEL": "WARN", "NODE_NAME": "le-0", "STORE": "Datastore", "DATASTORE_PROJECT_ID": "p"}))
	c := LoadCommon(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if c.Port != 0 || c.LogFormat != "console" || c.LogLevel != "warn" || c.NodeName != "le-0" ||
		c.StoreTimeout.String() != "750ms" || c.Store != "datastore" || c.StoreReason != "STORE is set" {
		t.Fatalf("values: %+v", c)
	}
}

func TestCommonErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"STORE_TIMEOUT": "0"}, `STORE_TIMEOUT: bad value "0": must be positive`},
		{map[string]string{"STORE_TIMEOUT": "-1s"}, `STORE_TIMEOUT: bad value "-1s": must not be negative`},
		{map[string]string{"STORE_TIMEOUT": "soon"}, `STORE_TIMEOUT: bad value "soon"`},
		{map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL: bad value "loud": want one of debug, info, warn, error`},
		{map[string]string{"STORE": "redis"}, `STORE: bad value "redis": want one of datastore, memory`},
		// Another backend's bad variable is an error even when unused.
		{map[string]string{"DATASTORE_NAMESPACE": "a b"}, `DATASTORE_NAMESPACE: bad value "a b"`},
		// The first error wins.
		{map[string]string{"APP_PORT": "x", "STORE": "redis"}, `APP_PORT: bad value "x"`},
	} {
		p := NewParser(env(tc.env))
		LoadCommon(p)
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.env, err, tc.want)
		}
	}
}

func TestSecretIsNeverRepeated(t *testing.T) {
	for _, v := range []string{"short", "has a space in it, long enough"} {
		p := NewParser(env(map[string]string{"TOKEN": v}))
		if got := p.Secret("TOKEN", 16); got != "" || p.Err() == nil || strings.Contains(p.Err().Error(), v) {
			t.Errorf("Secret(%q) = %q, %v; want an error naming TOKEN without the value", v, got, p.Err())
		}
	}
	p := NewParser(env(map[string]string{"TOKEN": "0123456789abcdef"}))
	if got := p.Secret("TOKEN", 16); got != "0123456789abcdef" || p.Err() != nil {
		t.Errorf("a good secret: %q, %v", got, p.Err())
	}
}

func TestQuoteCutsLongValues(t *testing.T) {
	if q := Quote(strings.Repeat("é", 100)); !strings.HasSuffix(q, "... (200 bytes)") || len(q) > 100 {
		t.Errorf("Quote of a long value: %s", q)
	}
}
