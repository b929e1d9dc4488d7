package datastore

import (
	"sync"
	"time"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
)

// clockSamples estimates this process's clock minus the store's from the
// commit timestamps Datastore returns (CommitResponse.commit_time): a
// commit happened between the call's send and its answer, so the store's
// time then is best matched by the middle of the call, within half its
// round trip. The sample with the shortest round trip of the recent ones
// wins.
type clockSamples struct {
	mu      sync.Mutex
	samples [16]clockSample
	n       int
}

type clockSample struct {
	offset, rtt time.Duration
	at          time.Time
}

// clockSampleAge is how long a sample counts: long enough to keep a few
// quiet periods' worth, short enough to follow a clock that steps.
const clockSampleAge = 5 * time.Minute

func (c *clockSamples) observe(reply any, sent, answered time.Time) {
	resp, ok := reply.(*pb.CommitResponse)
	if !ok || resp.GetCommitTime() == nil {
		return
	}
	rtt := answered.Sub(sent)
	mid := sent.Add(rtt / 2)
	s := clockSample{offset: mid.Sub(resp.GetCommitTime().AsTime()), rtt: rtt, at: answered}
	c.mu.Lock()
	c.samples[c.n%len(c.samples)] = s
	c.n++
	c.mu.Unlock()
}

// ClockOffset returns the estimate of this process's clock (time.Now) minus
// the store's, and its uncertainty (half the round trip of the sample it
// comes from); ok is false before any commit was answered.
func (s *Store) ClockOffset() (offset, uncertainty time.Duration, ok bool) {
	c := &s.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	var best clockSample
	for i := 0; i < min(c.n, len(c.samples)); i++ {
		smp := c.samples[i]
		if time.Since(smp.at) > clockSampleAge {
			continue
		}
		if !ok || smp.rtt < best.rtt {
			best, ok = smp, true
		}
	}
	return best.offset, best.rtt / 2, ok
}
