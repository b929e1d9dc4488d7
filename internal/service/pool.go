package service

import "sync"

// maxWorkers bounds the goroutines that run keepalives: as many keepalives
// may wait on the store at once, which is what lets a store that batches
// concurrent writes (Datastore, up to 500 per commit) fill its batches.
const maxWorkers = 1024

// pool runs functions on goroutines it keeps, started as needed up to
// maxWorkers, so that a keepalive costs no goroutine of its own (nor the
// growth of a new goroutine's stack): at a hundred thousand keepalives a
// second, that is a tenth of the CPU. Its workers end when done closes.
type pool struct {
	jobs chan func() // unbuffered: a send succeeds when a worker is idle
	done <-chan struct{}

	mu      sync.Mutex
	workers int
}

func newPool(done <-chan struct{}) *pool { return &pool{jobs: make(chan func()), done: done} }

// run runs f on an idle worker, or a new one, or, with maxWorkers busy, on
// the first to be free.
func (p *pool) run(f func()) {
	select {
	case p.jobs <- f:
		return
	default:
	}
	p.mu.Lock()
	spawn := p.workers < maxWorkers
	if spawn {
		p.workers++
	}
	p.mu.Unlock()
	if spawn {
		go p.work(f)
		return
	}
	p.jobs <- f
}

func (p *pool) work(f func()) {
	for {
		f()
		select {
		case f = <-p.jobs:
		case <-p.done:
			return
		}
	}
}
