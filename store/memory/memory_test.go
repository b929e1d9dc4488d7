package memory_test

import (
	"testing"

	"go-leader-election/store"
	"go-leader-election/store/memory"
	"go-leader-election/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memory.New() })
}

func TestMembersConformance(t *testing.T) {
	storetest.RunMembers(t, func(*testing.T) store.Members { return memory.New() })
}

func TestHistoryConformance(t *testing.T) {
	storetest.RunHistory(t, func(_ *testing.T, limit int) store.History { return memory.New(memory.WithHistoryLimit(limit)) })
}

func TestControlConformance(t *testing.T) {
	storetest.RunControl(t, func(*testing.T) storetest.Backend { return memory.New() })
}
