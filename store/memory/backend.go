package memory

import (
	"context"

	"go-leader-election/store"
)

// The embedded store is the default backend (STORE=memory).
func init() {
	store.Register(store.Backend{
		Name: "memory", Default: true,
		Configure: func(func(string) string, string) (store.Settings, error) { return settings{}, nil },
	})
}

type settings struct{}

// Open returns a new, empty store: each Open shares nothing with another.
func (settings) Open(_ context.Context, o store.OpenOptions) (store.Store, error) {
	if o.HistoryLimit > 0 {
		return New(WithHistoryLimit(o.HistoryLimit)), nil
	}
	return New(), nil
}

func (settings) Describe() string { return "memory store" }

func (settings) Address() string { return "" }
