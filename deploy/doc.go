// Package deploy holds the deployment manifests: kubernetes.yaml (a
// Deployment of three replicas on Cloud Datastore, for GKE) and compose.yaml
// (a local cluster on the project's emulator), and jobs-configmap.yaml (an
// example jobs file in a ConfigMap). It has no code; its test checks the
// manifests against the daemon: the probe paths it serves, its default port,
// the variables it reads (README's configuration table), its shutdown
// timing, and that the example jobs file loads. See README.md, "Deploy".
package deploy
