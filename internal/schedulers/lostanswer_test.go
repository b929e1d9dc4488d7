package schedulers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go-leader-election/store"
)

// answerLosingStore applies every Claim but loses the answer of every
// second one, as a Commit whose reply is lost on the network.
type answerLosingStore struct {
	*faultyStore
	n atomic.Int32
}

func (s *answerLosingStore) Claim(ctx context.Context, req store.ClaimRequest) (store.Lease, error) {
	l, err := s.faultyStore.Claim(ctx, req)
	if err == nil && s.n.Add(1)%2 == 1 {
		return store.Lease{}, errors.New("unavailable: answer lost")
	}
	return l, err
}

// TestClaimsWhoseAnswerIsLostStillRun: a node whose claim was applied but
// not answered recognises its own claim when it looks again, and runs the
// tick: nothing lost, nothing twice.
func TestClaimsWhoseAnswerIsLostStillRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, "@every 1s", 300*time.Millisecond)
		t0 := time.Now()
		lossy := &answerLosingStore{faultyStore: &faultyStore{Store: c.store}}
		c.startOn("a", 0, lossy)
		time.Sleep(1500 * time.Millisecond) // a claims tick 1 alone, and leads
		c.start("b", 0)
		time.Sleep(9 * time.Second)
		c.stopAll()
		c.checkRuns(t0.Add(time.Second), t0.Add(10*time.Second), time.Second)
		if lossy.n.Load() < 10 {
			t.Fatalf("only %d claims went through the lossy store", lossy.n.Load())
		}
	})
}
