package target

import (
	"strings"
	"testing"
)

func TestOutputLines(t *testing.T) {
	var got []string
	o := newOutput(func(stream, line string) { got = append(got, stream+":"+line) })
	o.read("stderr", strings.NewReader("one\r\ntwo\n\nthree without newline"))
	want := []string{"stderr:one", "stderr:two", "stderr:", "stderr:three without newline"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if tail := o.Tail(); tail != "one\ntwo\n\nthree without newline\n" {
		t.Fatalf("tail %q", tail)
	}
}

// TestOutputCutKeepsCharacters: a line cut at MaxLine does not split a
// character, and the tail starts at a whole one.
func TestOutputCutKeepsCharacters(t *testing.T) {
	var got []string
	o := newOutput(func(_, line string) { got = append(got, line) })
	o.read("stdout", strings.NewReader(strings.Repeat("é", MaxLine)+"\nnext\n"))
	if len(got) != 2 || len(got[0]) > MaxLine || !strings.HasSuffix(got[0], cutMark) || !strings.HasPrefix(got[0], "é") || got[1] != "next" {
		t.Fatalf("lines: %d, first %d bytes", len(got), len(got[0]))
	}
	if !strings.HasPrefix(strings.TrimSuffix(got[0], cutMark), strings.Repeat("é", (MaxLine-len(cutMark))/2)) {
		t.Fatal("the cut line is not whole characters")
	}
	var tl tail
	tl.write([]byte("x" + strings.Repeat("é", TailBytes)))
	if s := tl.String(); !strings.HasPrefix(s, "é") || len(s) > TailBytes {
		t.Fatalf("tail starts %q, %d bytes", s[:4], len(s))
	}
}
