package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The headers every request carries. They are a contract with targets.
const (
	HeaderJobName        = "X-Job-Name"
	HeaderJobTick        = "X-Job-Tick"
	HeaderJobTerm        = "X-Job-Term"
	HeaderJobNode        = "X-Job-Node"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// ReservedHeaders are the headers a target definition may not set.
var ReservedHeaders = []string{HeaderJobName, HeaderJobTick, HeaderJobTerm, HeaderJobNode, HeaderIdempotencyKey}

// HTTP sends a request as a job's target.
type HTTP struct {
	// URL is an absolute http or https URL.
	URL string
	// Method is the request's method; "" for POST.
	Method string
	// Headers are added to the request (a "Host" header sets the host);
	// their values are never shown.
	Headers map[string]string
	// Body is the request's body.
	Body string
	// Success lists the statuses that count as success; nil for any 2xx.
	Success []int
	// Client sends the request; nil for a client that does not follow
	// redirects and takes proxies from the usual variables (HTTPS_PROXY,
	// NO_PROXY), as Go's default does.
	Client *http.Client
}

// defaultClient does not follow redirects: a 3xx is the target's answer.
var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Validate reports an unusable definition (wrapping ErrInvalid).
func (h HTTP) Validate() error {
	if err := CheckURL(h.URL); err != nil {
		return fmt.Errorf("%w: URL %s: %w", ErrInvalid, RedactURL(h.URL), err)
	}
	return nil
}

// CheckURL reports whether raw is an absolute http or https URL with a
// host. Its error does not repeat the URL.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return unwrapURLError(err)
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return errors.New("no host")
	}
	return nil
}

// method is h's method, POST by default.
func (h HTTP) method() string {
	if h.Method == "" {
		return http.MethodPost
	}
	return h.Method
}

// String shows the method and URL (without query or password), and the
// headers by name only.
func (h HTTP) String() string {
	s := h.method() + " " + RedactURL(h.URL)
	if len(h.Headers) > 0 {
		s += fmt.Sprintf(", headers %v (values hidden)", slices.Sorted(maps.Keys(h.Headers)))
	}
	if h.Body != "" {
		s += fmt.Sprintf(", body of %d bytes", len(h.Body))
	}
	return s
}

// GoString is String: %#v must not show header values either.
func (h HTTP) GoString() string { return h.String() }

// Run sends the request once: a Func. The Result's status is "HTTP 503";
// StatusUnreachable when no response came, StatusStopped when the context
// ended first.
func (h HTTP) Run(ctx context.Context, inv Invocation) (Result, error) {
	what := h.method() + " " + RedactURL(h.URL)
	if err := h.Validate(); err != nil {
		return Result{Status: StatusNotStarted}, err
	}
	req, err := http.NewRequestWithContext(ctx, h.method(), h.URL, strings.NewReader(h.Body))
	if err != nil {
		return Result{Status: StatusNotStarted}, fmt.Errorf("%s: %w: %v", what, ErrInvalid, unwrapURLError(err))
	}
	req.Header.Set("User-Agent", "go-leader-election") // the definition may set its own
	for _, k := range slices.Sorted(maps.Keys(h.Headers)) {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = h.Headers[k]
			continue
		}
		req.Header.Set(k, h.Headers[k])
	}
	req.Header.Set(HeaderJobName, inv.Job)
	req.Header.Set(HeaderJobTick, FormatTick(inv.Tick))
	req.Header.Set(HeaderJobTerm, formatTerm(inv.Term))
	req.Header.Set(HeaderJobNode, inv.Node)
	req.Header.Set(HeaderIdempotencyKey, IdempotencyKey(inv))
	client := h.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	switch {
	case err != nil && ctx.Err() != nil:
		return Result{Status: StatusStopped}, fmt.Errorf("%s: stopped before an answer: %w", what, context.Cause(ctx))
	case err != nil:
		return Result{Status: StatusUnreachable}, fmt.Errorf("%s %w: %v", what, ErrUnreachable, unwrapURLError(err))
	}
	defer resp.Body.Close()
	var body tail
	_, rerr := io.Copy(&body, resp.Body)
	res := Result{Status: "HTTP " + strconv.Itoa(resp.StatusCode), Tail: body.String()}
	switch {
	case !h.succeeded(resp.StatusCode):
		return res, stopped(ctx, fmt.Errorf("%s %w: %s", what, ErrFailed, res.Status))
	case rerr != nil:
		return res, stopped(ctx, fmt.Errorf("%s: reading the response: %w", what, rerr))
	}
	return res, nil
}

// succeeded says whether code is in the success list (any 2xx without one).
func (h HTTP) succeeded(code int) bool {
	if h.Success == nil {
		return code >= 200 && code <= 299
	}
	return slices.Contains(h.Success, code)
}

// RedactURL is raw without its query, fragment and password, to name a
// target in messages: those parts may hold secrets. A URL that does not
// parse is not shown at all.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.Redacted()
}

// unwrapURLError drops a *url.Error's wrapping, which repeats the whole URL
// (query included).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
