// Package schedule reads job schedules and gives their ticks: instants
// (time.Time, returned in UTC) that every replica computes alike from the
// same spec and job name, whenever it started. Parse is the one way in; a
// Schedule is immutable and safe for concurrent use. Latest and Interval
// look back from any time to the tick at or before it.
//
// # Forms
//
//   - 5-field cron, "minute hour day-of-month month day-of-week", and
//     6-field cron with a second first. Items: n, a-b, *, ?, each with an
//     optional /step (n/step is n-max/step), comma lists, month and day
//     names (jan, mon). Day fields follow robfig/cron v3: when either is *
//     or ?, a day must match both, otherwise either.
//   - H in any field (see Spread).
//   - Descriptors: @yearly, @annually, @monthly, @weekly, @daily, @midnight,
//     @hourly (always at :00; only H spreads).
//   - A CRON_TZ= or TZ= prefix with an IANA zone, as in
//     "CRON_TZ=Europe/Berlin 0 9 * * 1-5". Without one a spec is read in
//     UTC, on every replica (never in a replica's local zone, which may
//     differ from its peers').
//   - "@every D": D a whole number of milliseconds, at least 10ms. It ticks
//     at multiples of D since the Unix epoch (not from process start, as
//     robfig/cron's does), takes no zone, and knows no daylight saving.
//
// # Daylight saving
//
// When the zone's UTC offset changes (daylight saving, or any other
// change), the classic rule of Vixie/ISC cron applies, decided by the kind
// of spec:
//
// A wildcard spec is one whose second, minute or hour field has an item
// written *, ?, */n or H/n; @hourly is one too. It follows real time: a
// wall time that a forward change skips does not tick, and one that a
// backward change repeats ticks at both of its instants. "*/30 * * * *" in
// New York ticks at 01:00 and 01:30 EDT, then at 01:00 and 01:30 EST, on
// 2026-11-01, always 30 minutes apart.
//
// Every other spec is a fixed-time spec: its second, minute and hour fields
// are numbers, lists, ranges, ranges with a step, H or H(a-b), as in "30 2
// * * *", "0 9-17 * * 1-5", "0 0-22/2 * * *", "H(0-29) 3 * * *"; and so are
// @daily, @midnight, @weekly, @monthly, @yearly and @annually. Its wall
// times skipped by a forward change tick once, at the change itself: "30 2
// * * *" in New York ticks at 03:00 EDT on 2026-03-08 (and two skipped wall
// times of one spec make one tick). Its wall times repeated by a backward
// change tick at their first instant only: "30 1 * * *" ticks at 01:30 EDT
// on 2026-11-01, not at 01:30 EST. So a daily fixed-time spec ticks exactly
// once every day.
//
// This is Vixie cron's rule (cron.c: "wildcard" jobs are those whose minute
// or hour field begins with *, "fixed-time" jobs the others), with three
// deliberate differences: any item of a list counts, not only the first;
// the second field counts like the minute; and it applies to every offset
// change the zone data holds, whereas cron, which cannot tell a change of
// offset from a clock being set, only handles changes under three hours.
//
// # Spread
//
// H stands for a value drawn from SpreadHash of the job's name and the
// field, so jobs written alike start at different times, the same on every
// replica and in every version:
//
//   - H: one value of the field (a day of the month from 1-28, which every
//     month has);
//   - H(a-b): one value in a-b;
//   - H/n: every n, from an offset below n ("H/15 * * * *" may run at 7, 22,
//     37 and 52 past each hour);
//   - H(a-b)/n: every n within a-b, from an offset below n.
//
// # What it does not promise
//
// Ticks are computed from Go's time/tzdata, which the package builds in
// (tzdata.go), or from the system's zone data where Go prefers it: replicas
// built with Go releases whose zone data disagree about a zone's rules
// disagree about its ticks near the changes in dispute. Next gives up after five years of wall times without a match
// ("0 0 30 2 *" never ticks) and returns the zero time. Day 7 is not
// Sunday (robfig/cron's bounds: 0-6).
package schedule
