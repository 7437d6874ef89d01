package tap

import (
	"bytes"
	"sync"
	"testing"
)

// Live lines of concurrent connections stay whole and say whose they are:
// text lines by a prefix, NDJSON objects by a member.
func TestLinePrefixer(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	text := &linePrefixer{mu: &mu, w: &out, prefix: "[2] "}
	text.Write([]byte("a\nb"))
	text.Write([]byte("c\n"))
	text.Write([]byte("tail"))
	text.flush()
	js := &linePrefixer{mu: &mu, w: &out, prefix: `{"connection":3,`, json: true}
	js.Write([]byte(`{"kind":"end"}` + "\n"))
	want := "[2] a\n[2] bc\n[2] tail\n" + `{"connection":3,"kind":"end"}` + "\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
