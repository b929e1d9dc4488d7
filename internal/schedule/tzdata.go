package schedule

// The zone database is built in, so that every replica of one version reads
// a zone's rules alike whatever its machine or image carries: replicas that
// disagreed about a zone's changes would disagree about its ticks.
import _ "time/tzdata"
