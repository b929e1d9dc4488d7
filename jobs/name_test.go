package jobs

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"go_preacher", "nightly_report", "a", "job2", strings.Repeat("a", MaxName)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                             "empty",
		"Nightly":                      "lower case",
		"2nd":                          "starting with a letter",
		"_x":                           "starting with a letter",
		"__key__":                      "starting with a letter",
		"a-b":                          "lower case",
		"a b":                          "lower case",
		"é":                            "lower case",
		strings.Repeat("a", MaxName+1): "longer than 100",
	} {
		if err := CheckName(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want an error saying %q", bad, err, want)
		}
	}
	for _, j := range Registry(Settings{}) {
		if err := CheckName(j.Name); err != nil {
			t.Errorf("registered job: %v", err)
		}
	}
}
