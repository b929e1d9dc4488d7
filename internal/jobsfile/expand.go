package jobsfile

import (
	"fmt"
	"regexp"
	"strings"
)

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces each ${NAME} in s with getenv(NAME), and each $$ with $.
// It returns every problem: a variable that is not set (empty counts as not
// set: an empty secret is a mistake, not a value), a bad name, a lone $.
// Problems name variables, never values.
func expand(s string, getenv func(string) string) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var problems []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				problems = append(problems, "a ${ without its }: write ${NAME} for a variable, $$ for a dollar sign")
				return s, problems
			}
			name := s[i+2 : i+end]
			v := ""
			if varNameRE.MatchString(name) && getenv != nil {
				v = getenv(name)
			}
			switch {
			case !varNameRE.MatchString(name):
				problems = append(problems, fmt.Sprintf("${%s}: not a variable name (letters, digits and '_', not starting with a digit)", name))
			case v == "":
				problems = append(problems, fmt.Sprintf("${%s}: %s is not set (or empty) in the daemon's environment", name, name))
			}
			b.WriteString(v)
			i += end
		default:
			problems = append(problems, fmt.Sprintf("a lone $ at byte %d: write ${NAME} for a variable, $$ for a dollar sign", i))
		}
	}
	return b.String(), problems
}
