package balance

import (
	"maps"
	"slices"
	"strings"
)

// jobSets is what a Membership knows of the live members' job sets.
type jobSets struct {
	// differ is true while some live member's job set is not this
	// process's: this process then publishes its job names.
	differ bool
	// said is the last difference logged ("" when they agree), so that
	// "Job sets differ" is logged once per change.
	said string
}

// SetJobs replaces this process's jobs and their hash (jobs added or
// removed at run time): the next record publishes them, and the jobs are
// assigned again at once.
func (m *Membership) SetJobs(jobs []string, jobSet string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs, m.jobSet = slices.Clone(jobs), jobSet
	m.noteJobSetsLocked()
	m.reassignLocked(m.clk.Now(), true)
}

// hasLocked reports whether candidate c runs job, as far as this process
// knows: itself, a member with the same job set, or one whose published
// names hold it. A member whose set differs and whose names are not yet
// known is given none of this process's jobs.
func (m *Membership) hasLocked(job string, c Candidate) bool {
	if c.ID == m.cfg.Self.ID {
		return true // assigned jobs are this process's own
	}
	v := m.others[c.ID]
	if v == nil {
		return false
	}
	return v.rec.JobSet == m.jobSet || slices.Contains(v.rec.Jobs, job)
}

// holdingsLocked summarises what the candidates run, as hasLocked judges
// it: the assignment is redone when it changes.
func (m *Membership) holdingsLocked(cs []Candidate) string {
	var b strings.Builder
	for _, c := range cs {
		if v := m.others[c.ID]; v != nil && v.rec.JobSet != m.jobSet {
			b.WriteString(c.ID + "=" + v.rec.JobSet + ":" + strings.Join(v.rec.Jobs, ",") + ";")
		}
	}
	return b.String()
}

// noteJobSetsLocked judges whether the live members' job sets differ, and
// logs "Job sets differ" (warn) once per change, "Job sets agree" when they
// agree again.
func (m *Membership) noteJobSetsLocked() {
	byHash := map[string][]string{m.jobSet: {m.cfg.Self.Node}}
	for _, v := range m.others {
		if !v.lapsed {
			byHash[v.rec.JobSet] = append(byHash[v.rec.JobSet], v.rec.Node)
		}
	}
	m.sets.differ = len(byHash) > 1
	said := ""
	if m.sets.differ {
		var parts []string
		for _, h := range slices.Sorted(maps.Keys(byHash)) {
			slices.Sort(byHash[h])
			parts = append(parts, short(h)+": "+strings.Join(byHash[h], ", "))
		}
		said = strings.Join(parts, "; ")
	}
	if said == m.sets.said {
		return
	}
	if said != "" {
		m.log.Warn().Int("job_sets", len(byHash)).Str("members", said).Str("own", short(m.jobSet)).
			Msg("Job sets differ")
	} else {
		m.log.Info().Str("job_set", short(m.jobSet)).Msg("Job sets agree")
	}
	m.sets.said = said
}

// short is a hash's first 12 characters, enough to tell sets apart in logs.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}
