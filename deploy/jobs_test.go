package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go-leader-election/internal/jobsfile"
	"go-leader-election/internal/schedule"
)

// configMap is the part of a ConfigMap the test reads.
type configMap struct {
	Kind     string            `yaml:"kind"`
	Metadata metadata          `yaml:"metadata"`
	Data     map[string]string `yaml:"data"`
}

// TestJobsConfigMap: the example jobs file loads, with every ${VAR} it uses
// listed in the file's instructions, and its mount path and JOBS_FILE agree.
func TestJobsConfigMap(t *testing.T) {
	docs := documents[configMap](t, "jobs-configmap.yaml")
	if len(docs) != 1 || docs[0].Kind != "ConfigMap" || docs[0].Metadata.Labels["app.kubernetes.io/name"] != "go-leader-election" {
		t.Fatalf("jobs-configmap.yaml: want one ConfigMap labelled like the Deployment, got %+v", docs)
	}
	file, ok := docs[0].Data["jobs.yaml"]
	if !ok {
		t.Fatalf("the ConfigMap has no jobs.yaml: %v", docs[0].Data)
	}
	b, err := os.ReadFile("jobs-configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b)
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#\s+- name: ([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(raw, -1) {
		listed[m[1]] = true
	}
	var missing []string
	getenv := func(k string) string {
		if !listed[k] {
			missing = append(missing, k)
		}
		return "value-of-" + k
	}
	set, err := jobsfile.Parse("jobs.yaml", []byte(file), jobsfile.Options{
		ParseSchedule: func(spec, job string) error { _, err := schedule.Parse(spec, job); return err },
		Getenv:        getenv,
	})
	if err != nil {
		t.Fatalf("the example jobs file does not load:\n%v", err)
	}
	if len(missing) > 0 {
		t.Errorf("the jobs file uses %v, which the instructions do not set", missing)
	}
	var http, command bool
	for _, j := range set.Jobs {
		http, command = http || j.HTTP != nil, command || j.Command != nil
	}
	if !http || !command {
		t.Errorf("the example should show both targets: http %v, command %v", http, command)
	}
	mount := regexp.MustCompile(`(?m)^#\s+mountPath: (\S+)`).FindStringSubmatch(raw)
	jobsFile := regexp.MustCompile(`(?m)^#\s+- name: JOBS_FILE\n#\s+value: (\S+)`).FindStringSubmatch(raw)
	if mount == nil || jobsFile == nil || jobsFile[1] != strings.TrimSuffix(mount[1], "/")+"/jobs.yaml" {
		t.Errorf("JOBS_FILE %v is not jobs.yaml under the mount path %v", jobsFile, mount)
	}
}
