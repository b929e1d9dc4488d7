package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"go-leader-election/internal/config"
	"go-leader-election/internal/schedulers"
	"go-leader-election/internal/server"
	_ "go-leader-election/store/backends"
)

// The parts of Kubernetes objects the test checks.
type object struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		MaxUnavailable any `yaml:"maxUnavailable"` // PodDisruptionBudget
		Template       struct {
			Metadata metadata `yaml:"metadata"`
			Spec     podSpec  `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type metadata struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type podSpec struct {
	ServiceAccountName            string          `yaml:"serviceAccountName"`
	TerminationGracePeriodSeconds *int            `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               securityContext `yaml:"securityContext"`
	Containers                    []container     `yaml:"containers"`
}

type securityContext struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	RunAsUser                *int  `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
}

type probe struct {
	HTTPGet *struct {
		Path string    `yaml:"path"`
		Port yaml.Node `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

// The parts of a Compose file the test checks.
type composeFile struct {
	Services map[string]struct {
		Image           string            `yaml:"image"`
		Build           any               `yaml:"build"`
		Command         []string          `yaml:"command"`
		Environment     map[string]string `yaml:"environment"`
		Ports           []string          `yaml:"ports"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
	} `yaml:"services"`
}

// documents decodes every YAML document of path.
func documents[T any](t *testing.T, path string) []T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []T
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, len(out)+1, err)
		}
		out = append(out, v)
	}
}

// readmeVariables returns the variables README.md's configuration table
// names: exact names, and patterns for templated ones (<JOB>_SCHEDULE).
func readmeVariables(t *testing.T) (names []string, patterns []*regexp.Regexp) {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	backticked := regexp.MustCompile("`([^`]+)`")
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Configuration"
			continue
		case strings.HasPrefix(line, "### "):
			in = false
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range backticked.FindAllStringSubmatch(first, -1) {
			name := m[1]
			if strings.Contains(name, "<") {
				p := regexp.QuoteMeta(name)
				p = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(p, `[A-Z0-9_]+`)
				patterns = append(patterns, regexp.MustCompile("^"+p+"$"))
				continue
			}
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("README.md: found %d variables in the Configuration table (%v); has its layout changed?", len(names), names)
	}
	return names, patterns
}

// daemonReads returns the variables config.Load reads.
func daemonReads(t *testing.T) map[string]bool {
	t.Helper()
	read := map[string]bool{}
	if _, err := config.Load(func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	return read
}

// variables knows which variables may be set: those README.md's table lists
// that the daemon reads.
type variables struct {
	names    []string
	patterns []*regexp.Regexp
	read     map[string]bool
}

func knownVariables(t *testing.T) variables {
	t.Helper()
	names, patterns := readmeVariables(t)
	return variables{names: names, patterns: patterns, read: daemonReads(t)}
}

// check fails unless name is in README's table and read by the daemon.
func (v variables) check(t *testing.T, where, name string) {
	t.Helper()
	documented := slices.Contains(v.names, name) ||
		slices.ContainsFunc(v.patterns, func(p *regexp.Regexp) bool { return p.MatchString(name) })
	if !documented {
		t.Errorf("%s sets %s, which README.md's configuration table does not list (it lists %v)", where, name, v.names)
	}
	if !v.read[name] {
		t.Errorf("%s sets %s, which config.Load does not read", where, name)
	}
}

func TestREADMEVariablesAreReadByTheDaemon(t *testing.T) {
	names, _ := readmeVariables(t)
	read := daemonReads(t)
	for _, n := range names {
		if !read[n] {
			t.Errorf("README.md's configuration table lists %s, which config.Load does not read", n)
		}
	}
}

// defaults is the configuration with no variable set.
func defaults(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// probeStatus requests path from the daemon's real handler, with a store that
// answers (ready) or not, and returns the status code.
func probeStatus(t *testing.T, path string, ready bool) int {
	t.Helper()
	h := server.New(server.Options{
		Node: "probe-test", Store: "datastore",
		Jobs: func() []schedulers.Status { return nil },
		Ready: func(context.Context) error {
			if ready {
				return nil
			}
			return errors.New("store unavailable")
		},
		ReadyTimeout: time.Second,
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

func kubernetes(t *testing.T) (deployment object, byKind map[string][]object) {
	t.Helper()
	byKind = map[string][]object{}
	for _, o := range documents[object](t, "kubernetes.yaml") {
		if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
			t.Errorf("kubernetes.yaml: a document without kind, apiVersion or name: %+v", o)
		}
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	if len(byKind["Deployment"]) != 1 {
		t.Fatalf("kubernetes.yaml: %d Deployments, want 1", len(byKind["Deployment"]))
	}
	return byKind["Deployment"][0], byKind
}

func TestKubernetesDeployment(t *testing.T) {
	d, byKind := kubernetes(t)
	def := defaults(t)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "go-leader-election:latest" {
		t.Errorf("image %q, want go-leader-election:latest (the documented placeholder)", c.Image)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the selector %s=%s does not match the pod's labels %v", k, v, d.Spec.Template.Metadata.Labels)
		}
	}

	// The port: the daemon's default, named http.
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != def.Port {
		t.Errorf("container port http = %d, want the daemon's default APP_PORT %d", ports["http"], def.Port)
	}

	// The environment: documented, read by the daemon, and valid.
	vars := knownVariables(t)
	env := map[string]string{}
	for _, e := range c.Env {
		vars.check(t, "kubernetes.yaml", e.Name)
		switch {
		case e.Value != nil:
			env[e.Name] = *e.Value
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env[e.Name] = "go-leader-election-5d9c7b6f4-x2k8q" // what the downward API gives
		default:
			t.Errorf("env %s has neither a value nor a fieldRef", e.Name)
		}
	}
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name") {
			t.Errorf("NODE_NAME must come from the pod name (fieldRef metadata.name)")
		}
	}
	for _, name := range []string{"NODE_NAME", "APP_PORT", "STORE", "DATASTORE_PROJECT_ID", "DATASTORE_NAMESPACE", "SHUTDOWN_TIMEOUT"} {
		if _, ok := env[name]; !ok {
			t.Errorf("env lacks %s", name)
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the daemon refuses the manifest's environment: %v", err)
	}
	if cfg.Store != "datastore" || cfg.Port != ports["http"] {
		t.Errorf("the manifest's environment gives store %s, port %d; want datastore on port %d", cfg.Store, cfg.Port, ports["http"])
	}

	// Probes: paths the server serves, on the http port; liveness must not
	// depend on the store, or a store outage would restart every replica.
	for name, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		if port := portNumber(p.HTTPGet.Port, ports); port != def.Port {
			t.Errorf("%s probe on port %q (%d), want %d", name, p.HTTPGet.Port.Value, port, def.Port)
		}
		if code := probeStatus(t, p.HTTPGet.Path, true); code != http.StatusOK {
			t.Errorf("%s probe GET %s: %d from the server when ready, want 200", name, p.HTTPGet.Path, code)
		}
		code := probeStatus(t, p.HTTPGet.Path, false)
		switch {
		case name == "liveness" && code != http.StatusOK:
			t.Errorf("liveness probe GET %s: %d when the store is down, want 200", p.HTTPGet.Path, code)
		case name == "readiness" && code != http.StatusServiceUnavailable:
			t.Errorf("readiness probe GET %s: %d when the store is down, want 503", p.HTTPGet.Path, code)
		}
	}

	// Shutdown: the kubelet's SIGKILL must come after running jobs have had
	// SHUTDOWN_TIMEOUT and the lease release its STORE_TIMEOUT.
	if g := pod.TerminationGracePeriodSeconds; g == nil {
		t.Errorf("no terminationGracePeriodSeconds (the default 30s is too short for SHUTDOWN_TIMEOUT %s)", cfg.Timing.ShutdownTimeout)
	} else if grace, need := time.Duration(*g)*time.Second, cfg.Timing.ShutdownTimeout+cfg.Timing.StoreTimeout; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s, want more than SHUTDOWN_TIMEOUT + STORE_TIMEOUT = %s", grace, need)
	}

	// Resources.
	for _, r := range []map[string]string{c.Resources.Requests, c.Resources.Limits} {
		if r["cpu"] == "" || r["memory"] == "" {
			t.Errorf("resources %+v: want cpu and memory requests and limits", c.Resources)
			break
		}
	}

	// Security: non-root (distroless nonroot is 65532), read-only, no
	// privilege escalation, no capabilities, the runtime's seccomp profile.
	ps, cs := pod.SecurityContext, c.SecurityContext
	either := func(a, b *bool) bool { return a != nil && *a || b != nil && *b }
	if !either(ps.RunAsNonRoot, cs.RunAsNonRoot) {
		t.Error("securityContext: want runAsNonRoot: true")
	}
	for _, u := range []*int{ps.RunAsUser, cs.RunAsUser} {
		if u != nil && *u != 65532 {
			t.Errorf("securityContext: runAsUser %d, want 65532 (distroless nonroot)", *u)
		}
	}
	if ps.RunAsUser == nil && cs.RunAsUser == nil {
		t.Error("securityContext: want runAsUser: 65532")
	}
	if cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
		t.Error("container securityContext: want readOnlyRootFilesystem: true")
	}
	if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
		t.Error("container securityContext: want allowPrivilegeEscalation: false")
	}
	if !slices.Contains(cs.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext: capabilities drop %v, want ALL", cs.Capabilities.Drop)
	}
	if ps.SeccompProfile.Type != "RuntimeDefault" && cs.SeccompProfile.Type != "RuntimeDefault" {
		t.Error("securityContext: want seccompProfile RuntimeDefault")
	}

	// Prometheus scrapes /metrics on the http port.
	a := d.Spec.Template.Metadata.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/port"] != strconv.Itoa(ports["http"]) {
		t.Errorf("pod annotations %v: want prometheus.io/scrape true, path /metrics, port %d", a, ports["http"])
	}

	// Workload Identity: the pods run as a service account bound to a GSA.
	var sa *object
	for i, o := range byKind["ServiceAccount"] {
		if o.Metadata.Name == pod.ServiceAccountName {
			sa = &byKind["ServiceAccount"][i]
		}
	}
	if pod.ServiceAccountName == "" || sa == nil {
		t.Errorf("serviceAccountName %q: want the ServiceAccount of this file", pod.ServiceAccountName)
	} else if gsa := sa.Metadata.Annotations["iam.gke.io/gcp-service-account"]; !strings.HasSuffix(gsa, ".iam.gserviceaccount.com") {
		t.Errorf("ServiceAccount %s: iam.gke.io/gcp-service-account %q, want a Google service account", sa.Metadata.Name, gsa)
	}

	for _, pdb := range byKind["PodDisruptionBudget"] {
		if pdb.Spec.MaxUnavailable != 1 {
			t.Errorf("PodDisruptionBudget: maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
		}
		for k, v := range pdb.Spec.Selector.MatchLabels {
			if d.Spec.Template.Metadata.Labels[k] != v {
				t.Errorf("PodDisruptionBudget: selector %s=%s does not match the pods", k, v)
			}
		}
	}
}

// portNumber resolves a probe's port, a number or the name of a container port.
func portNumber(n yaml.Node, named map[string]int) int {
	if p, err := strconv.Atoi(n.Value); err == nil {
		return p
	}
	return named[n.Value]
}

var composeDefault = regexp.MustCompile(`\$\{(\w+):-([^}]*)\}`)

// interpolate expands Compose's ${NAME:-default} in v, from env.
func interpolate(v string, env map[string]string) string {
	return composeDefault.ReplaceAllStringFunc(v, func(m string) string {
		parts := composeDefault.FindStringSubmatch(m)
		if e := env[parts[1]]; e != "" {
			return e
		}
		return parts[2]
	})
}

func TestCompose(t *testing.T) {
	files := documents[composeFile](t, "compose.yaml")
	if len(files) != 1 {
		t.Fatalf("compose.yaml: %d documents, want 1", len(files))
	}
	def := defaults(t)
	services := files[0].Services

	em, ok := services["emulator"]
	if !ok {
		t.Fatal("compose.yaml: no emulator service")
	}
	if want := []string{"emulator", "--host-port=0.0.0.0:8081", "--project=demo"}; !slices.Equal(em.Command, want) {
		t.Errorf("emulator command %q, want %q", em.Command, want)
	}
	var emulatorPort string
	for _, arg := range em.Command {
		if hp, ok := strings.CutPrefix(arg, "--host-port="); ok {
			_, emulatorPort, _ = net.SplitHostPort(hp)
		}
	}

	pg, ok := services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") || !slices.Contains(pg.Ports, "5432:5432") {
		t.Fatalf("compose.yaml: postgres service %+v, want an image postgres:* on port 5432", pg)
	}
	pgE := pg.Environment
	// What the daemons dial with STORE=postgres: the service's database, as its user.
	pgAddress := fmt.Sprintf("postgres://%s@postgres:5432/%s", pgE["POSTGRES_USER"], pgE["POSTGRES_DB"])

	vars := knownVariables(t)
	nodes := map[string]bool{}
	hostPorts := map[string]bool{}
	for name, s := range services {
		if name == "emulator" || name == "postgres" {
			continue
		}
		where := "compose.yaml service " + name
		if s.Build == nil || s.Image == "" {
			t.Errorf("%s: want build (the repository's Dockerfile) and image", where)
		}
		for k := range s.Environment {
			vars.check(t, where, k)
		}
		if u := s.Environment["DATABASE_URL"]; !strings.Contains(u, ":"+pgE["POSTGRES_PASSWORD"]+"@") {
			t.Errorf("%s: DATABASE_URL %q lacks the postgres service's password", where, u)
		}
		// As Compose runs it: on the emulator, or, with STORE=postgres set
		// where compose runs, on the postgres service.
		var cfg config.Config
		for _, store := range []string{"", "postgres"} {
			var err error
			cfg, err = config.Load(func(k string) string { return interpolate(s.Environment[k], map[string]string{"STORE": store}) })
			if err != nil {
				t.Errorf("%s (STORE=%s where compose runs): the daemon refuses its environment: %v", where, store, err)
				continue
			}
			want, address := "datastore", net.JoinHostPort("emulator", emulatorPort)
			if store == "postgres" {
				want, address = "postgres", pgAddress
			}
			if cfg.Store != want || cfg.Backend.Address() != address {
				t.Errorf("%s (STORE=%s where compose runs): store %s at %q, want %s at %s", where, store, cfg.Store, cfg.Backend.Address(), want, address)
			}
		}
		if cfg.NodeName == "" || nodes[cfg.NodeName] {
			t.Errorf("%s: NODE_NAME %q, want a name of its own", where, cfg.NodeName)
		}
		nodes[cfg.NodeName] = true
		if len(s.Ports) != 1 {
			t.Errorf("%s: ports %v, want one mapping", where, s.Ports)
		} else {
			host, ctr, _ := strings.Cut(s.Ports[0], ":")
			if ctr != strconv.Itoa(def.Port) || cfg.Port != def.Port || hostPorts[host] {
				t.Errorf("%s: port mapping %q, want a host port of its own to the default APP_PORT %d", where, s.Ports[0], def.Port)
			}
			hostPorts[host] = true
		}
		grace, err := time.ParseDuration(s.StopGracePeriod)
		if need := cfg.Timing.ShutdownTimeout + cfg.Timing.StoreTimeout; err != nil || grace <= need {
			t.Errorf("%s: stop_grace_period %q, want more than SHUTDOWN_TIMEOUT + STORE_TIMEOUT = %s", where, s.StopGracePeriod, need)
		}
	}
	if len(nodes) != 3 || !nodes["alpha"] || !nodes["bravo"] || !nodes["charlie"] {
		t.Errorf("compose.yaml replicas %v, want alpha, bravo and charlie", nodes)
	}
	for _, p := range []string{"3000", "3001", "3002"} {
		if !hostPorts[p] {
			t.Errorf("compose.yaml: no replica on host port %s", p)
		}
	}
}
