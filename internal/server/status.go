package server

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"go-leader-election/internal/balance"
	"go-leader-election/internal/schedulers"
)

// StatusPath is the pattern of the status page.
const StatusPath = "GET /{$}"

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Parse(statusHTML))

// statusView is what status.html renders. Every string in it is plain text:
// the template escapes it.
type statusView struct {
	Node    string
	Store   string
	Now     string // UTC, to the second
	NowISO  string
	Jobs    []jobView
	Leading int // how many of Jobs this node leads
	Refresh int // seconds between reloads
	Members []memberView
	// Actions is true when the action buttons are on (ADMIN_TOKEN set);
	// the page then reloads by its script, not by a meta refresh.
	Actions bool
	// HistoryOff is true with HISTORY_LIMIT=0.
	HistoryOff bool
}

type memberView struct {
	Node, ID         string
	Self             bool
	Started, Renewal timeView
	Offset           string
	OffsetKnown      bool
	OffsetHigh       bool
	Leads, Preferred string // job names, comma-separated
}

type jobView struct {
	Job      string
	Schedule string
	Leader   string // "" when nobody holds the lease
	Term     int64
	Leading  bool
	Running  bool
	Paused   bool
	Expires  timeView
	LastTick timeView
	NextTick timeView
	// HasRun is false until this node has seen a run of the job finish.
	HasRun   bool
	Error    string // the last run's error; "" when it succeeded
	Duration string
	RunTick  timeView
	// History is the job's shared history, from every node.
	History historyView
}

// timeView is one instant as shown: zero renders as a dash.
type timeView struct {
	Set      bool
	UTC      string // "12:00:10 UTC", with the date when it is not today's
	ISO      string // RFC 3339, for <time datetime>
	Relative string // "in 3s", "5s ago"
}

// statusHandler serves the status page; now gives the time relative times
// are computed from.
func statusHandler(o Options, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var jobs []schedulers.Status
		if o.Jobs != nil {
			jobs = o.Jobs()
		}
		at := now().UTC()
		v := newStatusView(o.Node, o.Store, jobs, at)
		hist := readHistories(r.Context(), o, jobs, at)
		for i := range v.Jobs {
			v.Jobs[i].History = hist[v.Jobs[i].Job]
		}
		v.Actions, v.HistoryOff = o.actionsEnabled(), o.Runs == nil || o.HistoryLimit <= 0
		if o.Refresh > 0 {
			v.Refresh = max(int(o.Refresh/time.Second), 1)
		}
		if o.Members != nil {
			v.Members = newMemberViews(o.Members(), at)
		}
		var buf bytes.Buffer
		if err := statusTemplate.Execute(&buf, v); err != nil {
			http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'self'; connect-src 'self'")
		_, _ = w.Write(buf.Bytes())
	})
}

func newStatusView(node, store string, jobs []schedulers.Status, now time.Time) statusView {
	v := statusView{
		Node: node, Store: store, Refresh: 5,
		Now: now.Format("2006-01-02 15:04:05 UTC"), NowISO: now.Format(time.RFC3339),
	}
	for _, s := range jobs {
		j := jobView{
			Job: s.Job, Schedule: s.Schedule, Leader: s.Leader, Term: s.Term,
			Leading: s.Leading, Running: s.Running, Paused: s.Paused,
			Expires:  newTimeView(s.LeaseExpires, now),
			LastTick: newTimeView(s.LastTick, now),
			NextTick: newTimeView(s.NextTick, now),
		}
		if r := s.LastRun; r != nil {
			j.HasRun = true
			j.Error = r.Error
			j.Duration = formatDuration(r.Duration)
			j.RunTick = newTimeView(r.Tick, now)
		}
		if j.Leading {
			v.Leading++
		}
		v.Jobs = append(v.Jobs, j)
	}
	return v
}

func newTimeView(t, now time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	t = t.UTC()
	layout := "15:04:05 UTC"
	if y, m, d := t.Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		layout = "2006-01-02 15:04:05 UTC"
	}
	return timeView{Set: true, UTC: t.Format(layout), ISO: t.Format(time.RFC3339Nano), Relative: relative(t.Sub(now))}
}

// relative says how far d (a time minus now) is from now, as people say it:
// "in 3s", "5s ago", "in 2m 5s", "1h 4m ago".
func relative(d time.Duration) string {
	switch {
	case d >= 0 && d < time.Second:
		return "in <1s"
	case d < 0 && d > -time.Second:
		return "just now"
	case d > 0:
		return "in " + approx(d)
	default:
		return approx(-d) + " ago"
	}
}

// approx writes d to the second, with at most two units.
func approx(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
	}
}

// formatDuration rounds a run's duration to what a person reads: ms below a
// second, then hundredths of seconds.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

func newMemberViews(ms []balance.MemberStatus, now time.Time) []memberView {
	out := make([]memberView, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberView{
			Node: m.Node, ID: m.ID, Self: m.Self,
			Started: newTimeView(m.Started, now), Renewal: newTimeView(m.LastRenewal, now),
			Offset: m.ClockOffsetText, OffsetKnown: m.ClockOffsetKnown,
			OffsetHigh: m.ClockOffset > balance.ClockOffsetWarning || m.ClockOffset < -balance.ClockOffsetWarning,
			Leads:      strings.Join(m.Leads, ", "), Preferred: strings.Join(m.Preferred, ", "),
		})
	}
	return out
}
