#!/bin/sh
# Regenerates the Go code of the proto files under proto/ into api/.
# Needs protoc (Debian: apt-get install protobuf-compiler); the Go plugins are
# built here at pinned versions. Run from anywhere: go generate ./api/...
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN=$bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
cd "$root/proto"
PATH=$bin:$PATH protoc -I . \
	--go_out="$root" --go_opt=module=go-leader-election \
	--go-grpc_out="$root" --go-grpc_opt=module=go-leader-election \
	leaderelection/v1/leaderelection.proto
