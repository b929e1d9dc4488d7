package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Methods are the RPC names a [Fault] may name, besides "*" for all.
var Methods = []string{"Lookup", "RunQuery", "RunAggregationQuery", "BeginTransaction",
	"Commit", "Rollback", "AllocateIds", "ReserveIds"}

// Fault is a rule injecting latency and/or an error into one RPC method.
// When a call matches and the rule fires, the server sleeps Latency and then
// fails the call with Code, or handles it normally when Code is codes.OK.
// With Applied, it handles the call and then fails it with Code: the call
// takes effect but its caller gets the error, as when a real Commit's answer
// is lost on the way back (an indeterminate commit).
//
// In JSON (the /faults admin API): {"method":"Commit","latency":"200ms",
// "error":"UNAVAILABLE","applied":true,"rate":0.5,"count":3}.
type Fault struct {
	Method  string        // an RPC name of Methods, or "*" for every method
	Latency time.Duration // added before the call is handled or failed
	Code    codes.Code    // error to return; codes.OK for latency only
	Applied bool          // handle the call, then return Code anyway; needs a Code
	Rate    float64       // probability of firing, in [0, 1]; 0 means 1
	Count   int           // fire for this many more calls, then drop; 0 = forever
}

// Faults holds the fault rules, at most one per method; a method's own rule
// takes precedence over the "*" rule. The zero value has no rules; it is safe
// for concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules map[string]*Fault
}

// Set adds r, replacing any rule for the same method.
func (f *Faults) Set(r Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[string]*Fault{}
	}
	f.rules[r.Method] = &r
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Rules lists the rules by method; Count is what remains.
func (f *Faults) Rules() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Fault) int { return strings.Compare(a.Method, b.Method) })
	return out
}

// fire decides whether a rule fires for a call of method, consuming one of
// its Count, and returns it.
func (f *Faults) fire(method string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rules[method]
	if r == nil {
		r = f.rules["*"]
	}
	if r == nil || (r.Rate > 0 && r.Rate < 1 && rand.Float64() >= r.Rate) {
		return Fault{}, false
	}
	if r.Count > 0 {
		if r.Count--; r.Count == 0 {
			delete(f.rules, r.Method)
		}
	}
	return *r, true
}

// run makes a call of method through handle, injecting the fault that
// fires for it, if any.
func (f *Faults) run(ctx context.Context, method string, handle func() (any, error)) (any, error) {
	r, ok := f.fire(method)
	if !ok {
		return handle()
	}
	if r.Latency > 0 {
		t := time.NewTimer(r.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	switch {
	case r.Code == codes.OK:
		return handle()
	case r.Applied:
		_, _ = handle() // done, whatever it answered; the answer is lost
		return nil, status.Errorf(r.Code, "emulator: injected %s fault on %s, after applying it", codeName(r.Code), method)
	}
	return nil, status.Errorf(r.Code, "emulator: injected %s fault on %s", codeName(r.Code), method)
}

// Validate reports whether r names a known method and sane values.
func (r Fault) Validate() error {
	if r.Method != "*" && !slices.Contains(Methods, r.Method) {
		return fmt.Errorf("unknown method %q (want * or one of %s)", r.Method, strings.Join(Methods, ", "))
	}
	if r.Latency < 0 || r.Rate < 0 || r.Rate > 1 || r.Count < 0 || r.Code > codes.Unauthenticated {
		return fmt.Errorf("fault %s: latency and count must not be negative, rate must be in [0, 1], error a gRPC code", r.Method)
	}
	if r.Applied && r.Code == codes.OK {
		return fmt.Errorf("fault %s: applied needs an error to answer with", r.Method)
	}
	return nil
}

// ParseFault parses the --fault flag syntax,
// METHOD:key=value[,key=value...], with keys latency (a Go duration), error
// (a gRPC code name such as UNAVAILABLE), applied (true or false), rate
// (0..1) and count.
func ParseFault(spec string) (Fault, error) {
	method, opts, _ := strings.Cut(spec, ":")
	r := Fault{Method: method}
	for _, kv := range strings.Split(opts, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "latency":
			r.Latency, err = time.ParseDuration(v)
		case "error":
			r.Code, err = parseCode(v)
		case "rate":
			r.Rate, err = strconv.ParseFloat(v, 64)
		case "applied":
			r.Applied, err = strconv.ParseBool(v)
		case "count":
			r.Count, err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown key %q (want latency, error, applied, rate or count)", k)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %v", spec, err)
		}
	}
	return r, r.Validate()
}

// parseCode accepts a gRPC code name in any case, with or without
// underscores (UNAVAILABLE, DeadlineExceeded), or its number.
func parseCode(s string) (codes.Code, error) {
	want := strings.ToUpper(strings.ReplaceAll(s, "_", ""))
	if want == "CANCELLED" {
		want = "CANCELED"
	}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.ToUpper(c.String()) == want || strconv.Itoa(int(c)) == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown gRPC code %q", s)
}

// codeName is c's canonical name, such as DEADLINE_EXCEEDED.
func codeName(c codes.Code) string {
	if c == codes.Canceled {
		return "CANCELLED"
	}
	var b strings.Builder
	for i, ch := range c.String() {
		if i > 0 && ch >= 'A' && ch <= 'Z' && c != codes.OK {
			b.WriteByte('_')
		}
		b.WriteRune(ch)
	}
	return strings.ToUpper(b.String())
}

type faultJSON struct {
	Method  string  `json:"method"`
	Latency string  `json:"latency,omitempty"`
	Error   string  `json:"error,omitempty"`
	Applied bool    `json:"applied,omitempty"`
	Rate    float64 `json:"rate,omitempty"`
	Count   int     `json:"count,omitempty"`
}

// MarshalJSON encodes r with a duration string and a code name.
func (r Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Method: r.Method, Applied: r.Applied, Rate: r.Rate, Count: r.Count}
	if r.Latency != 0 {
		j.Latency = r.Latency.String()
	}
	if r.Code != codes.OK {
		j.Error = codeName(r.Code)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form MarshalJSON writes. An unknown field is an
// error naming it, so that a misspelt key ("errr") is refused rather than
// installing a rule that does nothing.
func (r *Fault) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j faultJSON
	if err := dec.Decode(&j); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("unknown field %s (want method, latency, error, rate or count)", field)
		}
		return err
	}
	f := Fault{Method: j.Method, Applied: j.Applied, Rate: j.Rate, Count: j.Count}
	var err error
	if j.Latency != "" {
		if f.Latency, err = time.ParseDuration(j.Latency); err != nil {
			return err
		}
	}
	if j.Error != "" {
		if f.Code, err = parseCode(j.Error); err != nil {
			return err
		}
	}
	*r = f
	return nil
}
