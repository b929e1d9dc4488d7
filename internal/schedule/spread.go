package schedule

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// spread reads one H list item: H, H(a-b), H/n or H(a-b)/n. The value H
// stands for comes from SpreadHash of the job and the field, so it is the
// same on every replica and in every version, and differs from job to job.
// H/n, like */n, is a wildcard for the daylight-saving rule; H(a-b)/n, like
// a-b/n, is not.
func (f field) spread(expr, job string) (bits uint64, wildcard bool, reason string) {
	const form = "want H, H(a-b), H/n or H(a-b)/n"
	if job == "" {
		return 0, false, "H needs the job's name, which it spreads on"
	}
	rest := expr[len("H"):]
	lo, hi := f.spreadMin, f.spreadMax
	ranged := strings.HasPrefix(rest, "(")
	if ranged {
		inner, after, ok := strings.Cut(rest[1:], ")")
		lowText, highText, isRange := strings.Cut(inner, "-")
		if !ok || !isRange {
			return 0, false, form
		}
		if lo, reason = f.number(lowText); reason != "" {
			return 0, false, reason
		}
		if hi, reason = f.number(highText); reason != "" {
			return 0, false, reason
		}
		if reason = f.checkRange(lo, hi); reason != "" {
			return 0, false, reason
		}
		rest = after
	}
	width := hi - lo + 1
	h := SpreadHash(job, f.name)
	if rest == "" {
		return 1 << (lo + uint(h%uint64(width))), false, ""
	}
	stepText, ok := strings.CutPrefix(rest, "/")
	if !ok {
		return 0, false, form
	}
	step, reason := parseStep(stepText)
	if reason != "" {
		return 0, false, reason
	}
	if step > width {
		return 0, false, fmt.Sprintf("the step %d is longer than the range %d-%d", step, lo, hi)
	}
	return bitsOf(lo+uint(h%uint64(step)), hi, step), !ranged, ""
}

// SpreadHash is the number H is drawn from, for a job and a field name
// ("second", "minute", "hour", "day-of-month", "month", "day-of-week"): the
// first 8 bytes, big-endian, of the SHA-256 of field + ":" + job. H picks
// lo + SpreadHash % (hi-lo+1) in its range, H/n starts at lo + SpreadHash % n.
//
// This is a contract: replicas of different versions must agree on every
// tick, so it never changes. SHA-256 because any language computes it the
// same way and its bits are uniform even for names that differ in one
// character; each field hashes apart, so H H * * * does not tie the minute
// to the hour.
func SpreadHash(job, fieldName string) uint64 {
	sum := sha256.Sum256([]byte(fieldName + ":" + job))
	return binary.BigEndian.Uint64(sum[:8])
}
