package dump

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// gap is the kind of error a reassembling reader returns at a missing
// segment: not io.EOF.
var errGap = errors.New("capture gap: segment missing")

// gapReader delivers the first n bytes of b, then fails.
type gapReader struct {
	b []byte
	n int
}

func (g *gapReader) Read(p []byte) (int, error) {
	if g.n == 0 {
		return 0, errGap
	}
	k := copy(p, g.b[:min(g.n, len(g.b))])
	g.b, g.n = g.b[k:], g.n-k
	return k, nil
}

func capture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../../testvectors/captures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A source that fails with something other than io.EOF is reported at the
// offset where its bytes stop, after everything before it, and the outcome
// is a read error (exit 2), not a violation.
func TestConversationSourceError(t *testing.T) {
	client := capture(t, "json-call.client.bin")
	server := capture(t, "json-call.server.bin")
	for _, at := range []int{0, 3, 80, 120} {
		var out bytes.Buffer
		o, err := Conversation(bytes.NewReader(client), &gapReader{b: server, n: at}, &out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if o != ReadError {
			t.Fatalf("gap at %d: outcome %v, want ReadError", at, o)
		}
		want := "S error at offset " + strconv.Itoa(at) + " "
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "read-error: "+errGap.Error()) {
			t.Fatalf("gap at %d: no %q read-error line in\n%s", at, want, out.String())
		}
	}
}

// The conversation entry point reads from any io.Reader, here one that
// hands out a byte at a time: the output is that of whole files [FRAME-12].
func TestConversationSegmentation(t *testing.T) {
	for _, name := range []string{"trailer-octets", "multipart", "truncated"} {
		c, s := capture(t, name+".client.bin"), capture(t, name+".server.bin")
		var whole, bytewise bytes.Buffer
		o1, err1 := Conversation(bytes.NewReader(c), bytes.NewReader(s), &whole, Options{JSON: true, Sum: true})
		o2, err2 := Conversation(oneByte{bytes.NewReader(c)}, oneByte{bytes.NewReader(s)}, &bytewise, Options{JSON: true, Sum: true})
		if err1 != nil || err2 != nil || o1 != o2 || whole.String() != bytewise.String() {
			t.Fatalf("%s: output depends on the segmentation (%v %v %v %v)", name, o1, o2, err1, err2)
		}
	}
}

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
