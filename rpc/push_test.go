package rpc

import (
	"context"
	"strings"
	"testing"
)

// closeRecorder is a request source that records whether it was closed.
type closeRecorder struct {
	*strings.Reader
	closed bool
}

func (c *closeRecorder) Close() error {
	c.closed = true
	return nil
}

// A pushed source belongs to the caller: Call reads it to its end and
// leaves it open (Push's documentation), as the in-process client does,
// whether it goes as a plain octets body or as a Push's Body.
func TestPushedSourceNotClosed(t *testing.T) {
	p := newPair(t, testServer(t, nil), nil)
	ctx := context.Background()
	src := &closeRecorder{Reader: strings.NewReader("body")}
	var out Msg
	if err := p.cli.Call(ctx, "Count", src, &out); err != nil || out.N != 4 {
		t.Fatalf("Count: %v, %+v", err, out)
	}
	if src.closed {
		t.Error("Call closed an octets request source")
	}
	src = &closeRecorder{Reader: strings.NewReader("body")}
	if err := p.cli.Call(ctx, "PushMeta", Push{Meta: &Msg{Text: "m"}, Body: src}, &out); err != nil {
		t.Fatalf("PushMeta: %v", err)
	}
	if src.closed {
		t.Error("Call closed a Push's Body")
	}
}
