package jobs

import (
	"fmt"
	"regexp"
)

// MaxName is the longest job name: names show in logs, metrics labels and
// the status page, and key the lease.
const MaxName = 100

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// CheckName reports whether name is a valid job name: 1 to MaxName lower
// case letters, digits and '_', starting with a letter, so that
// <NAME>_SCHEDULE is a valid environment variable name and the name is never
// a store's reserved key (__name__).
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty job name")
	case len(name) > MaxName:
		return fmt.Errorf("job name %q... is %d bytes long, longer than %d", name[:20], len(name), MaxName)
	case !nameRE.MatchString(name):
		return fmt.Errorf("job name %q: want lower case letters, digits and '_', starting with a letter", name)
	}
	return nil
}
