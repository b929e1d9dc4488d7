package balance

import (
	"fmt"
	"strings"
	"testing"
)

func jobNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("job_%04d", i)
	}
	return out
}

func candidates(nodes ...string) []Candidate {
	out := make([]Candidate, len(nodes))
	for i, n := range nodes {
		out[i] = Candidate{ID: n + "/x", Node: n}
	}
	return out
}

func loads(a map[string]string) map[string]int {
	out := map[string]int{}
	for _, id := range a {
		out[id]++
	}
	return out
}

func TestAssignIsCappedAndEveryJobHasOne(t *testing.T) {
	for _, tc := range []struct{ jobs, nodes int }{{2, 1}, {2, 2}, {2, 3}, {1000, 3}, {50, 4}, {7, 7}} {
		var nodes []string
		for i := range tc.nodes {
			nodes = append(nodes, fmt.Sprintf("n%d", i))
		}
		a := Assign(jobNames(tc.jobs), candidates(nodes...), nil)
		if len(a) != tc.jobs {
			t.Fatalf("%d jobs on %d nodes: %d assigned", tc.jobs, tc.nodes, len(a))
		}
		limit := (tc.jobs + tc.nodes - 1) / tc.nodes
		for id, n := range loads(a) {
			if n > limit {
				t.Errorf("%d jobs on %d nodes: %s has %d, cap %d", tc.jobs, tc.nodes, id, n, limit)
			}
		}
	}
}

func TestAssignAgreesWhateverTheOrder(t *testing.T) {
	a := Assign(jobNames(100), candidates("a", "b", "c"), nil)
	b := Assign(jobNames(100), candidates("c", "a", "b"), nil)
	for j, id := range a {
		if b[j] != id {
			t.Fatalf("job %s: %s in one order, %s in another", j, id, b[j])
		}
	}
}

// TestAJoinMovesAFairShare: a fourth node takes about a quarter of the jobs,
// and the jobs that move all move to it.
func TestAJoinMovesAFairShare(t *testing.T) {
	jobs := jobNames(1000)
	before := Assign(jobs, candidates("a", "b", "c"), nil)
	after := Assign(jobs, candidates("a", "b", "c", "d"), nil)
	moved, toNew := 0, 0
	for _, j := range jobs {
		if before[j] != after[j] {
			moved++
			if after[j] == "d/x" {
				toNew++
			}
		}
	}
	if toNew != 250 {
		t.Errorf("the new node got %d jobs, want 250", toNew)
	}
	if moved > 300 {
		t.Errorf("%d jobs moved for one join, want about 250", moved)
	}
	t.Logf("1000 jobs, 3 → 4 nodes: %d moved, %d of them to the new node", moved, toNew)
}

// TestAssignOnlyToCandidatesThatHaveTheJob: with job sets that differ, a
// job goes only to a candidate that runs it, even past the cap, and a job
// nobody has is left out.
func TestAssignOnlyToCandidatesThatHaveTheJob(t *testing.T) {
	jobs := append(jobNames(30), "only_on_a", "nowhere")
	has := func(job string, c Candidate) bool {
		switch job {
		case "only_on_a":
			return c.Node == "a"
		case "nowhere":
			return false
		}
		return c.Node != "c" || job < "job_0010" // c has 10 of the 30
	}
	a := Assign(jobs, candidates("a", "b", "c"), has)
	if a["only_on_a"] != "a/x" {
		t.Errorf("only_on_a went to %q, want a", a["only_on_a"])
	}
	if id, ok := a["nowhere"]; ok {
		t.Errorf("a job no candidate has went to %q", id)
	}
	for job, id := range a {
		if !has(job, Candidate{ID: id, Node: strings.TrimSuffix(id, "/x")}) {
			t.Errorf("%s went to %s, which does not have it", job, id)
		}
	}
	if len(a) != len(jobs)-1 {
		t.Errorf("%d jobs assigned, want %d", len(a), len(jobs)-1)
	}
}
