package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLostCommitAnswers: the store applies every Commit but a share of its
// answers are lost (UNAVAILABLE after applying, as a real Commit can fail on
// the network). A node whose claim was applied but unanswered recognises
// its own claim when it retries and runs the tick; nothing runs twice.
func TestLostCommitAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for about 25 seconds")
	}
	for _, rate := range []float64{0.33, 0.5} {
		t.Run(fmt.Sprintf("%.0f%% of answers lost", rate*100), func(t *testing.T) {
			c := newCluster(t, "PREACHER_TIMES=5", "PREACHER_PAUSE=200ms") // 0.8s runs
			lostAnswers(t, c, fmt.Sprintf("Commit answers lost (%.0f%%, applied)", rate*100), func() {
				body := fmt.Sprintf(`{"method":"Commit","error":"UNAVAILABLE","applied":true,"rate":%g}`, rate)
				resp, err := http.Post("http://"+c.emuHost+"/faults", "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST /faults: %s", resp.Status)
				}
			})
		})
	}
}

// lostAnswers starts three daemons on c, calls lose to make the store lose
// answers (recorded as the fault kind), and judges 20 s of both jobs.
func lostAnswers(t *testing.T, c *cluster, kind string, lose func()) {
	for _, n := range []string{"alpha", "bravo", "charlie"} {
		<-c.start(n).port
	}
	lose()
	c.note(kind)
	from := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(20 * time.Second)
	v := c.finish(from, time.Second)
	var table strings.Builder
	fmt.Fprintf(&table, "lost Commit answers: 3 nodes, both jobs @every 1s, 0.8s runs, 20s\n")
	v.print(&table)
	publish(t, table.String())
	v.assertSafe(t)
	ticks := 0
	for tk := v.from; !tk.After(v.to); tk = tk.Add(time.Second) {
		ticks += 2
	}
	// A node now recognises its own applied claim, but a renewal whose
	// answer is lost near the end of a claim's trust still cancels a run,
	// and a claim whose answers are lost until the next tick is still
	// lost. The previous protocol lost 10 of 38 job-ticks at 33% and 20 of
	// 38 at 50% in this setting; this one loses 7-9 at 33% and 7-12 at 50%
	// on a 2-core machine, so the bound leaves room for a loaded CI
	// machine: what must never vary is that no tick runs twice.
	if limit := ticks / 2; v.totalMissed() > limit {
		t.Errorf("%d of %d job-ticks lost, want at most %d", v.totalMissed(), ticks, limit)
	}
}
