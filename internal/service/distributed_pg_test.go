package service_test

import (
	"context"
	"sync"
	"testing"

	"go-leader-election/internal/pgtest"
	"go-leader-election/internal/service"
	"go-leader-election/store"
	"go-leader-election/store/postgres"
)

// The distributed tests again, on PostgreSQL (POSTGRES_TEST_URL): two
// servers, each with a pool of its own, over one table of elections.

func TestDistributedOneLeaderAtATimePostgres(t *testing.T) { testOneLeaderAtATime(t, onPostgres) }

func TestDistributedServerDiesPostgres(t *testing.T) { testServerDies(t, onPostgres) }

// pgSchemas maps a namespace to its schema: one per namespace, made by the
// first store opened in it.
var pgSchemas sync.Map

// onPostgres returns a store of elections (service.DefaultKind) on the
// test server, in ns's schema, closed when t ends.
func onPostgres(t testing.TB, ns string) store.Store {
	t.Helper()
	url := pgtest.URL(t)
	schema, ok := pgSchemas.Load(ns)
	if !ok {
		schema, _ = pgSchemas.LoadOrStore(ns, pgtest.Schema(t, url))
	}
	st, err := postgres.New(context.Background(), postgres.Config{URL: url, Schema: schema.(string), Kind: service.DefaultKind})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
