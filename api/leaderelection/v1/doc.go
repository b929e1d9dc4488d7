// Package leaderelectionv1 is the gRPC API of the leader-election service
// (proto/leaderelection/v1/leaderelection.proto): the generated messages and
// stubs, committed so that building needs no protoc, and the limits every
// server enforces on what a request names (this file and limits.go are
// written by hand).
//
// After editing the .proto, regenerate with
//
//	go generate ./api/...
//
// which needs protoc (Debian: apt-get install protobuf-compiler) and builds
// the two Go plugins at the versions proto/generate.sh pins.
package leaderelectionv1

//go:generate sh ../../../proto/generate.sh
