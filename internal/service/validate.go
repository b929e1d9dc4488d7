package service

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "go-leader-election/api/leaderelection/v1"
	"go-leader-election/store"
)

// checkName answers INVALID_ARGUMENT for a bad election name or node id.
func checkName(what, name string) error {
	if err := pb.CheckName(what, name); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

func checkNames(election, node string) error {
	if err := checkName("election", election); err != nil {
		return err
	}
	return checkName("node_id", node)
}

// checkTTL returns the TTL asked for, or INVALID_ARGUMENT. An unset TTL is
// 0 when it is optional.
func checkTTL(d *durationpb.Duration, required bool) (time.Duration, error) {
	if d == nil {
		if required {
			return 0, status.Errorf(codes.InvalidArgument, "ttl is required (from %s to %s)", pb.MinTTL, pb.MaxTTL)
		}
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "ttl: %v", err)
	}
	ttl := d.AsDuration()
	if err := pb.CheckTTL(ttl); err != nil {
		return 0, status.Error(codes.InvalidArgument, err.Error())
	}
	return ttl, nil
}

func checkTerm(term int64) error {
	if term <= 0 {
		return status.Errorf(codes.InvalidArgument, "term %d: want the positive term the lease was granted under", term)
	}
	return nil
}

// notHolder is the FAILED_PRECONDITION of a heartbeat or release by a node
// (or session) that does not hold the lease under term; it says who does.
func notHolder(election, node string, term int64, rec store.Lease) error {
	held := "nobody holds it"
	switch _, underSession := sessionOf(rec.Holder); {
	case underSession:
		held = fmt.Sprintf("%q holds it under term %d, under a session", rec.Node, rec.Term)
	case rec.Holder != "":
		held = fmt.Sprintf("%q holds it under term %d", rec.Node, rec.Term)
	}
	return status.Errorf(codes.FailedPrecondition, "election %q: node %q does not hold the lease under term %d (%s)", election, node, term, held)
}

// storeError is the UNAVAILABLE of a store call that failed: the client may
// retry, here or on another server.
func storeError(op, election string, err error) error {
	if errors.Is(err, store.ErrNotHolder) || errors.Is(err, store.ErrHeld) {
		return status.Errorf(codes.Internal, "election %q: %s: unexpected store answer: %v", election, op, err)
	}
	return status.Errorf(codes.Unavailable, "election %q: store %s failed: %v", election, op, err)
}
