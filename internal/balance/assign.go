package balance

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// Candidate is a member jobs may be assigned to: its identity (unique per
// process) and node name (what the assignment hashes, so that a restarted
// pod with the same name gets the same jobs).
type Candidate struct {
	ID   string
	Node string
}

// Assign gives every job a preferred candidate by rendezvous hashing with a
// cap: each (job, candidate) pair has a score from a hash of both names; pairs
// are taken best score first, and a job goes to the first candidate of its
// pairs that has fewer than ceil(len(jobs)/len(candidates)) jobs. Every node
// computing it from the same lists gets the same answer, and a candidate
// joining or leaving moves about len(jobs)/len(candidates) jobs. It returns
// job name → candidate ID; nil without candidates.
//
// has, if set, says which candidates run which jobs (replicas whose job sets
// differ): a job goes only to a candidate that has it, past the cap if
// need be, and a job no candidate has is left out. nil: every candidate has
// every job.
func Assign(jobs []string, candidates []Candidate, has func(job string, c Candidate) bool) map[string]string {
	if len(candidates) == 0 {
		return nil
	}
	if has == nil {
		has = func(string, Candidate) bool { return true }
	}
	limit := (len(jobs) + len(candidates) - 1) / len(candidates)
	type pair struct {
		score uint64
		job   string
		c     int
	}
	pairs := make([]pair, 0, len(jobs)*len(candidates))
	for _, j := range jobs {
		for i, c := range candidates {
			if has(j, c) {
				pairs = append(pairs, pair{score(j, c.Node), j, i})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		if a.job != b.job {
			return cmp.Compare(a.job, b.job)
		}
		return cmp.Compare(candidates[a.c].ID, candidates[b.c].ID)
	})
	out := make(map[string]string, len(jobs))
	load := make([]int, len(candidates))
	for _, p := range pairs {
		if _, done := out[p.job]; done || load[p.c] >= limit {
			continue
		}
		out[p.job] = candidates[p.c].ID
		load[p.c]++
	}
	// A job whose only holders are full (job sets differ) goes to its best
	// one anyway: a job must run somewhere.
	for _, p := range pairs {
		if _, done := out[p.job]; !done {
			out[p.job] = candidates[p.c].ID
		}
	}
	return out
}

func score(job, node string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(job))
	h.Write([]byte{0})
	h.Write([]byte(node))
	return mix(h.Sum64())
}

// mix spreads FNV's output over all 64 bits (splitmix64's finaliser), so
// that scores of similar names compare as if random.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
