package emulator

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// DefaultProject is the project Main prints when --project is not given:
// the one README.md's local cluster exports.
const DefaultProject = "demo"

// faultFlags collects repeated --fault flags.
type faultFlags []Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " fault rules") }

func (f *faultFlags) Set(spec string) error {
	r, err := ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

// Main is the `go-leader-election emulator` subcommand; args are the flags
// after "emulator". It serves until ctx is done or POST /shutdown, printing
// at start the lines `gcloud beta emulators datastore env-init` prints, and
// then returns nil. Bad flags return an error (flag.ErrHelp for -h).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hostPort := fs.String("host-port", "localhost:8081", "`host:port` to listen on, for gRPC and the admin API; port 0 picks one")
	project := fs.String("project", DefaultProject, "project id to print in the environment lines (requests may use any)")
	dataDir := fs.String("data-dir", "", "`dir`ectory to keep data in; empty keeps it in memory")
	var faults faultFlags
	fs.Var(&faults, "fault", "inject a fault into an RPC, repeatable: `METHOD:key=value,...`\n"+
		"METHOD is * or one of "+strings.Join(Methods, ", ")+";\n"+
		"keys: latency (a Go duration), error (a gRPC code name such as UNAVAILABLE),\n"+
		"applied (true: carry the call out, then answer the error, as a lost answer),\n"+
		"rate (probability 0..1, default 1), count (calls to affect, default unlimited);\n"+
		"e.g. --fault=Commit:latency=200ms --fault=Lookup:error=UNAVAILABLE,rate=0.5\n"+
		"--fault=Commit:error=UNAVAILABLE,applied=true,rate=0.3")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("emulator: unexpected arguments %q", fs.Args())
	}
	f := &Faults{}
	for _, r := range faults {
		f.Set(r)
	}
	s, err := New(Options{Project: *project, DataDir: *dataDir, Faults: f})
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(*hostPort); err != nil {
		return fmt.Errorf("emulator: --host-port=%s: want host:port, such as localhost:8081 (port 0 picks a free one)", *hostPort)
	}
	l, err := net.Listen("tcp", *hostPort)
	if err != nil {
		return fmt.Errorf("emulator: --host-port=%s: %w", *hostPort, err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	host, _, _ := net.SplitHostPort(*hostPort)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	if host == "" {
		host = "localhost"
	}
	hp := net.JoinHostPort(host, port)
	fmt.Fprintf(stdout, "export DATASTORE_DATASET=%s\nexport DATASTORE_EMULATOR_HOST=%s\n"+
		"export DATASTORE_EMULATOR_HOST_PATH=%s/datastore\nexport DATASTORE_HOST=http://%s\n"+
		"export DATASTORE_PROJECT_ID=%s\n", *project, hp, hp, hp, *project)
	storage := "in memory"
	if *dataDir != "" {
		storage = "in " + *dataDir
	}
	fmt.Fprintf(stderr, "[datastore] Dev App Server is now running at http://%s (project %s, data %s).\n", hp, *project, storage)

	select {
	case <-ctx.Done():
	case <-s.shutdown:
	case err := <-served:
		s.Close()
		return err
	}
	// Let in-flight requests, such as POST /shutdown itself, finish.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = s.http.Shutdown(sctx)
	cancel()
	_ = s.Close()
	<-served
	return nil
}
