package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestConsoleColourOnlyOnATerminal: console lines written to a buffer, a
// pipe or a file carry no ANSI escapes; on a terminal they are coloured.
func TestConsoleColourOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "console", "info", "local")
	l.Info().Str("job", "j").Msg("Running")
	l = New(NewSyncWriter(&buf), "console", "info", "local")
	l.Warn().Msg("Store unavailable")
	if strings.Contains(buf.String(), "\x1b[") || !strings.Contains(buf.String(), "Running") {
		t.Errorf("console lines to a buffer: %q, want text without colour", buf.String())
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if IsTerminal(w) || IsTerminal(NewSyncWriter(w)) {
		t.Error("IsTerminal(a pipe) = true")
	}
	l = New(NewSyncWriter(w), "console", "info", "local")
	l.Info().Msg("Running")
	w.Close()
	var piped bytes.Buffer
	if _, err := piped.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(piped.String(), "\x1b[") || !strings.Contains(piped.String(), "Running") {
		t.Errorf("console line to a pipe: %q, want text without colour", piped.String())
	}

	tty := openTerminal(t)
	if !IsTerminal(NewSyncWriter(tty)) {
		t.Fatal("IsTerminal(a pseudo-terminal) = false")
	}
	var onTTY bytes.Buffer
	l = New(NewSyncWriter(teeFile{tty, &onTTY}), "console", "info", "local")
	l.Warn().Msg("Store unavailable")
	if !strings.Contains(onTTY.String(), "\x1b[") {
		t.Errorf("console line to a terminal: %q, want colour", onTTY.String())
	}
}

// TestNoEmptyConstantFields: without a stage, JSON lines carry no
// "environment" at all; with one, they carry it.
func TestNoEmptyConstantFields(t *testing.T) {
	for stage, want := range map[string]any{"": nil, "prod": "prod"} {
		var buf bytes.Buffer
		l := New(&buf, "json", "info", stage)
		l.Info().Msg("Running")
		var ev map[string]any
		if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["environment"] != want || ev["application"] != "go-leader-election" {
			t.Errorf("stage %q: %s, want environment %v and the application", stage, buf.Bytes(), want)
		}
		for k, v := range ev {
			if v == "" {
				t.Errorf("stage %q: empty field %s in %s", stage, k, buf.Bytes())
			}
		}
	}
}

// teeFile is a terminal file whose writes are also kept.
type teeFile struct {
	*os.File
	kept *bytes.Buffer
}

func (f teeFile) Write(p []byte) (int, error) {
	f.kept.Write(p)
	return len(p), nil
}
