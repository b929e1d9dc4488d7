package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	pb "cloud.google.com/go/datastore/apiv1/datastorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The Datastore REST (JSON) API, on the same port as gRPC:
//
//	POST /v1/projects/{project}:lookup   (and :runQuery, :runAggregationQuery,
//	     :beginTransaction, :commit, :rollback, :allocateIds, :reserveIds)
//
// also under /datastore/v1/..., where DATASTORE_EMULATOR_HOST_PATH points.
// The body is the method's request message in proto3 JSON (the http rules
// of google.datastore.v1 send the whole request as the body, project_id in
// the path); the answer is the response message, or Google's JSON error
// shape with the matching HTTP status. Each call goes through the same
// handlers, call counts and faults as a gRPC call.

// restMethod is one REST verb.
type restMethod struct {
	name   string // the gRPC method name
	newReq func() proto.Message
	call   func(d *db, ctx context.Context, req any) (any, error)
}

func method[Req, Resp proto.Message](name string, newReq func() Req, h func(*db, context.Context, Req) (Resp, error)) restMethod {
	return restMethod{
		name:   name,
		newReq: func() proto.Message { return newReq() },
		call:   func(d *db, ctx context.Context, req any) (any, error) { return h(d, ctx, req.(Req)) },
	}
}

var restMethods = map[string]restMethod{
	"lookup":              method("Lookup", func() *pb.LookupRequest { return &pb.LookupRequest{} }, (*db).Lookup),
	"runQuery":            method("RunQuery", func() *pb.RunQueryRequest { return &pb.RunQueryRequest{} }, (*db).RunQuery),
	"runAggregationQuery": method("RunAggregationQuery", func() *pb.RunAggregationQueryRequest { return &pb.RunAggregationQueryRequest{} }, (*db).RunAggregationQuery),
	"beginTransaction":    method("BeginTransaction", func() *pb.BeginTransactionRequest { return &pb.BeginTransactionRequest{} }, (*db).BeginTransaction),
	"commit":              method("Commit", func() *pb.CommitRequest { return &pb.CommitRequest{} }, (*db).Commit),
	"rollback":            method("Rollback", func() *pb.RollbackRequest { return &pb.RollbackRequest{} }, (*db).Rollback),
	"allocateIds":         method("AllocateIds", func() *pb.AllocateIdsRequest { return &pb.AllocateIdsRequest{} }, (*db).AllocateIds),
	"reserveIds":          method("ReserveIds", func() *pb.ReserveIdsRequest { return &pb.ReserveIdsRequest{} }, (*db).ReserveIds),
}

// restPrefixes are where the REST API is served: DATASTORE_HOST and
// DATASTORE_EMULATOR_HOST_PATH, as Main prints them.
var restPrefixes = []string{"/v1/projects/", "/datastore/v1/projects/"}

// maxRESTBody bounds a request body, as grpc.MaxRecvMsgSize bounds a gRPC one.
const maxRESTBody = 64 << 20

// serveREST answers POST {prefix}{project}:{verb}.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	i := strings.LastIndexByte(target, ':')
	m, ok := restMethods[target[i+1:]]
	if i <= 0 || !ok {
		writeRESTError(w, status.Errorf(codes.NotFound, "no method %q: want POST /v1/projects/{project}:{method}, the method one of "+
			"lookup, runQuery, runAggregationQuery, beginTransaction, commit, rollback, allocateIds, reserveIds", r.URL.Path))
		return
	}
	project := target[:i]
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRESTBody))
	if err != nil {
		writeRESTError(w, status.Errorf(codes.InvalidArgument, "reading the request: %v", err))
		return
	}
	req := m.newReq()
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := protojson.Unmarshal(body, req); err != nil {
			writeRESTError(w, status.Errorf(codes.InvalidArgument, "Invalid JSON payload received. %v", err))
			return
		}
	}
	pr := req.ProtoReflect()
	field := pr.Descriptor().Fields().ByName("project_id")
	if body := pr.Get(field).String(); body != "" && body != project {
		writeRESTError(w, status.Errorf(codes.InvalidArgument, "the body's project id %q differs from the path's %q", body, project))
		return
	}
	pr.Set(field, protoreflect.ValueOfString(project))

	resp, err := s.intercept(r.Context(), req, &grpc.UnaryServerInfo{FullMethod: "/google.datastore.v1.Datastore/" + m.name},
		func(ctx context.Context, req any) (any, error) { return m.call(s.db, ctx, req) })
	if err != nil {
		writeRESTError(w, err)
		return
	}
	opts := protojson.MarshalOptions{UseEnumNumbers: strings.Contains(r.URL.Query().Get("$alt"), "enum-encoding=int")}
	out, err := opts.Marshal(resp.(proto.Message))
	if err != nil {
		writeRESTError(w, status.Errorf(codes.Internal, "encoding the response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(out)
}

// writeRESTError answers err in Google's JSON error shape,
// {"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}}, with
// the HTTP status Google maps its code to.
func writeRESTError(w http.ResponseWriter, err error) {
	st, ok := status.FromError(err)
	if !ok && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		st = status.FromContextError(err)
	}
	code := httpStatus(st.Code())
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(restError{Error: restStatus{Code: code, Message: st.Message(), Status: codeName(st.Code())}})
}

// restError is Google's JSON error shape.
type restError struct {
	Error restStatus `json:"error"`
}

type restStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

// httpStatuses are the HTTP statuses Google APIs answer gRPC codes with
// (google/rpc/code.proto); any other code is 500 (Unknown, Internal,
// DataLoss).
var httpStatuses = map[codes.Code]int{
	codes.OK:                 http.StatusOK,
	codes.Canceled:           499,
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.FailedPrecondition: http.StatusBadRequest,
	codes.OutOfRange:         http.StatusBadRequest,
	codes.Unauthenticated:    http.StatusUnauthorized,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.NotFound:           http.StatusNotFound,
	codes.AlreadyExists:      http.StatusConflict,
	codes.Aborted:            http.StatusConflict,
	codes.ResourceExhausted:  http.StatusTooManyRequests,
	codes.Unimplemented:      http.StatusNotImplemented,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
}

// httpStatus is the HTTP status Google APIs answer c with.
func httpStatus(c codes.Code) int {
	if s, ok := httpStatuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}
