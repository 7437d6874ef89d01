package frame

import (
	"bytes"
	"strings"
	"testing"
)

// [FRAME-11] A buffered Writer puts the same bytes on the stream as an
// unbuffered one, in fewer writes: nothing before Flush while the frames
// fit, one write for a turn of small frames, and a large payload straight
// through behind what is pending.
func TestBufferedWriter(t *testing.T) {
	turn := func(w *Writer) {
		w.WriteMessage(TypeHeader, []byte(`{"Endpoint":"Ping"}`))
		w.WriteMessage(TypeData, []byte("{}\n"))
	}
	var plain, gathered countingWriter
	turn(NewWriter(&plain))
	w := NewBufferedWriter(&gathered, 1024)
	turn(w)
	if gathered.writes != 0 {
		t.Fatalf("%d writes before Flush", gathered.writes)
	}
	if err := w.Flush(); err != nil || gathered.writes != 1 || !bytes.Equal(gathered.Bytes(), plain.Bytes()) {
		t.Fatalf("Flush: %v, %d writes, %q want %q", err, gathered.writes, gathered.Bytes(), plain.Bytes())
	}

	big := pattern(vectorThreshold+5, 3)
	plain.Reset()
	gathered.Reset()
	gathered.writes = 0
	pw := NewWriter(&plain)
	pw.WriteMessage(TypeHeader, []byte("h"))
	pw.WriteMessage(TypeData, big)
	pw.WriteRST()
	w = NewBufferedWriter(&gathered, 1024)
	w.WriteMessage(TypeHeader, []byte("h"))
	w.WriteMessage(TypeData, big)
	// The header frames went out with the payload; the final empty frame
	// and the RST wait for Flush.
	if gathered.writes != 2 {
		t.Fatalf("%d writes for a large payload, want 2 (pending, payload)", gathered.writes)
	}
	if err := w.WriteRST(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil || !bytes.Equal(gathered.Bytes(), plain.Bytes()) {
		t.Fatalf("Flush after RST: %v, bytes differ", err)
	}
}

// A failed write of a buffered Writer is sticky, flush included.
func TestBufferedWriterFailure(t *testing.T) {
	w := NewBufferedWriter(&failWriter{after: 0}, 16)
	if err := w.WriteMessage(TypeHeader, []byte("x")); err != nil {
		t.Fatalf("buffered write: %v", err)
	}
	broken := func(err error) bool { return err != nil && strings.Contains(err.Error(), "broken pipe") }
	if err := w.Flush(); !broken(err) {
		t.Fatalf("Flush: %v", err)
	}
	if err := w.WriteMessage(TypeHeader, []byte("x")); !broken(err) || w.Err() != err {
		t.Fatalf("after a failed flush: %v, Err %v", err, w.Err())
	}
	if err := w.WriteRST(); !broken(err) {
		t.Fatalf("RST after a failed flush: %v", err)
	}
}
