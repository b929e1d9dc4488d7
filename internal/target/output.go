package target

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// cutMark ends a line cut at MaxLine bytes.
const cutMark = " [line cut]"

// cutNotice is the line that says, once, that a run's output went past
// MaxRunOutput.
const cutNotice = "[output cut: more than 1 MiB this run; the rest is not logged, its last 4 KiB are kept in the run's record]"

// output passes a run's lines to a sink, within the limits, and keeps the
// tail.
type output struct {
	sink func(stream, line string)

	mu     sync.Mutex
	passed int  // bytes passed to sink this run
	cut    bool // MaxRunOutput reached: nothing more is passed
	tail   tail
}

func newOutput(sink func(stream, line string)) *output {
	if sink == nil {
		sink = func(string, string) {}
	}
	return &output{sink: sink}
}

// read passes r's lines on as stream's until r ends.
func (o *output) read(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, MaxLine+1) // a line of MaxLine bytes and its '\n' fit
	skipping := false                       // in the rest of a line already cut
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			if !skipping {
				o.line(stream, bytes.TrimSuffix(chunk[:len(chunk)-1], []byte{'\r'}))
			}
			skipping = false
		case err == bufio.ErrBufferFull:
			if !skipping {
				o.line(stream, append(cutAt(chunk, MaxLine-len(cutMark)), cutMark...))
			}
			skipping = true
		default: // the end: a last line without '\n'
			if len(chunk) > 0 && !skipping {
				o.line(stream, chunk)
			}
			return
		}
	}
}

// line passes one line on, unless the run's output has been cut.
func (o *output) line(stream string, line []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail.write(line)
	o.tail.write([]byte{'\n'})
	if o.cut {
		return
	}
	if o.passed+len(line) > MaxRunOutput {
		o.cut = true
		o.sink(stream, cutNotice)
		return
	}
	o.passed += len(line)
	o.sink(stream, string(line))
}

// Tail returns the last TailBytes passed through line.
func (o *output) Tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tail.String()
}

// cutAt returns b's first n bytes at most, not splitting a character.
func cutAt(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return append([]byte(nil), b[:n]...)
}

// tail keeps the last TailBytes written to it.
type tail struct{ buf []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.write(p)
	return len(p), nil
}

func (t *tail) write(p []byte) {
	if len(p) >= TailBytes {
		t.buf = append(t.buf[:0], p[len(p)-TailBytes:]...)
		return
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*TailBytes { // compact now and then, not on every write
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-TailBytes:]...)
	}
}

// String is the tail, from the first whole character.
func (t *tail) String() string {
	b := t.buf
	if len(b) > TailBytes {
		b = b[len(b)-TailBytes:]
	}
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return string(b)
}
