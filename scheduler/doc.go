// Package scheduler runs scheduled jobs inside a replicated Go service: run
// three (or thirty) copies of the service and every tick of every job still
// runs once, on one replica, because the replicas hold a lease per job in a
// shared store.
//
// Use it in three steps: open a store (memory.New for one replica, the
// store/datastore or another backend's open function for many), build a
// Scheduler with New and Add the jobs, then Run it until the service stops:
//
//	st := memory.New()
//	s, err := scheduler.New(st, scheduler.WithNode("web-1"))
//	...
//	err = s.Add(scheduler.Job{Name: "report", Schedule: "@every 10s", Run: report})
//	...
//	go s.Run(ctx)      // until ctx ends; then runs finish and leases are released
//	<-s.Done()
//
// What it promises, with every replica on the same store and the same jobs:
//   - a tick of a job never runs twice, on any replica;
//   - two runs of one job never overlap, whatever the overlap policy
//     (WithOverlap: the default skips a tick whose predecessor still runs;
//     Replace cancels the run and starts once it has returned; BufferOne
//     starts the tick when it ends);
//   - a tick no replica ran in its time (every replica was down over it,
//     or its replica stopped during a run that crossed it) runs once, late,
//     on one replica, if one can start it within the job's starting
//     deadline (WithStartingDeadline; by default until its next tick);
//   - a run whose lease can no longer be trusted has its context cancelled
//     before another replica may take the lease over; the fencing token
//     (TokenFrom) lets the job's own writes refuse a deposed leader;
//   - on a graceful stop (Run's context ends) running jobs finish (up to
//     Timing.ShutdownTimeout) and leases are released, so a peer runs the
//     next tick on time: the peer balance prefers among the others, which
//     none of them waits for the stopping replica to be;
//   - a failed run is retried (WithRetries) under the same claim and
//     fencing term, never past its starting deadline; a run is cancelled
//     past its timeout (WithTimeout);
//   - with balance on (the default) the jobs share themselves out among the
//     replicas.
//
// What it does not promise: that a tick runs at all when no replica is up
// until its starting deadline (of the ticks missed while every replica was
// down, only the latest runs: never a burst), or when a replica dies
// mid-run (the run is lost, and recorded as lost in the shared history);
// that a tick runs on time (a tick caught up runs late, "Catching up");
// exactly-once effects outside the scheduler (use the fencing token; a
// retried run calls the job again); wall-clock agreement between replicas
// (none is needed: lapse is judged by each replica's own observation of the
// store).
//
// The package reads no environment and writes no logs unless given a logger
// (WithLogger); metrics are registered only on a registry the caller passes
// (WithRegisterer). Handler serves the JSON API, the status page and the
// operator's actions, for the service to mount on its own mux.
package scheduler
