package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"go-leader-election/scheduler"
	"go-leader-election/store/memory"
)

// A job that runs once per tick, on one replica, with the fencing token of
// its run in its context.
func Example() {
	st := memory.New() // one replica; store/datastore for many
	defer st.Close()
	s, err := scheduler.New(st, scheduler.WithNode("web-1"))
	if err != nil {
		log.Fatal(err)
	}
	ran := make(chan scheduler.Token, 1)
	err = s.Add(scheduler.Job{Name: "report", Schedule: "@every 100ms", Run: func(ctx context.Context) error {
		token, _ := scheduler.TokenFrom(ctx) // guard external writes with token.Term
		if run, ok := scheduler.RunFrom(ctx); !ok || run.Node != "web-1" || run.Attempt != 1 {
			return fmt.Errorf("run %+v", run)
		}
		select {
		case ran <- token:
		default:
		}
		return nil
	}})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	go s.Run(ctx)

	token := <-ran
	stop()     // graceful: running jobs finish, leases are released
	<-s.Done() // then Done is closed
	fmt.Printf("%s ran under term %d\n", token.Name, token.Term)
	// Output: report ran under term 1
}

// The scheduler's HTTP API, mounted under a prefix of the service's own mux.
func ExampleScheduler_Handler() {
	s, err := scheduler.New(memory.New(), scheduler.WithNode("web-1"))
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Add(scheduler.Job{Name: "report", Schedule: "@hourly", Run: func(context.Context) error { return nil }}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/scheduler/", http.StripPrefix("/scheduler", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/scheduler/jobs")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"job": "report"`))
	// Output: 200 true
}

// Options are validated: an error names the option and the bad value.
func ExampleNew_badOption() {
	_, err := scheduler.New(memory.New(), scheduler.WithMemberPeriod(0))
	fmt.Println(err)
	// Output: scheduler: bad option: WithMemberPeriod(0s): want from 500ms to 1m0s
}
