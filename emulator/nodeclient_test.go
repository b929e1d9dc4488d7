package emulator

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNodeClient drives the emulator with Google's official Node.js client
// (@google-cloud/datastore, pinned in nodeclient/package.json) over gRPC and
// over REST: CRUD, value types, batch order, transactions, queries,
// projections, aggregations, named databases and limits (nodeclient/test.js). It needs node and
// `npm ci --prefix emulator/nodeclient`, and skips without them, unless
// NODECLIENT_REQUIRED is set (as CI sets it), when it fails instead.
func TestNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node: skipped with -short")
	}
	missing := func(why string) {
		t.Helper()
		msg := why + "; to run this test: install Node.js 18 or later, then `npm ci --prefix emulator/nodeclient`"
		if os.Getenv("NODECLIENT_REQUIRED") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node on $PATH")
	}
	if _, err := os.Stat(filepath.Join("nodeclient", "node_modules", "@google-cloud", "datastore", "package.json")); err != nil {
		missing("emulator/nodeclient/node_modules is not installed")
	}

	s := start(t, Options{})
	cmd := exec.CommandContext(t.Context(), node, "test.js")
	cmd.Dir = "nodeclient"
	cmd.Env = append(os.Environ(),
		"DATASTORE_EMULATOR_HOST="+s.Addr(),
		"DATASTORE_PROJECT_ID=nodeclient",
		"METADATA_SERVER_DETECTION=none", // no probing for a GCE metadata server
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	summary := regexp.MustCompile(`^SUMMARY (\d+) passed, (\d+) failed$`)
	var sum []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FAIL "), strings.HasPrefix(line, "    "):
			t.Error(line)
		case summary.MatchString(line):
			sum = summary.FindStringSubmatch(line)
			t.Log(line)
		default:
			t.Log(line)
		}
	}
	if err != nil || sum == nil || sum[2] != "0" {
		t.Fatalf("node test.js: %v\n%s", err, stderr.String())
	}
	// 9 cases, each over gRPC and over REST.
	if sum[1] != "18" {
		t.Errorf("%s cases passed, want 18", sum[1])
	}
}
