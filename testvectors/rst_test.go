package testvectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/framerpc/framerpc/testvectors/format"
)

// TestServerRSTAfterStreamErrors checks [ERR-1] on the reference server
// with every message vector that breaks inside a connection's first
// request (a lone Header message, or the Ping request header and its Data
// body, as cmd/conform plays them): after reset or unexpected-eof the
// server sends nothing at all, after any other class exactly one RST, and
// either way it closes the connection. A socketpair keeps the check exact:
// unlike TCP, it never loses bytes the server wrote before closing, which
// is why cmd/conform, which may run over TCP, accepts a missing RST.
func TestServerRSTAfterStreamErrors(t *testing.T) {
	f := loadMessageFile(t)
	srv := headerFixture(t)
	played := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if !breaksFirstRequest(t, tc) {
				continue
			}
			played++
			t.Run(fmt.Sprintf("tcId=%d", tc.TcID), func(t *testing.T) {
				t.Parallel()
				cli, sconn := socketpair(t)
				defer cli.Close()
				served := make(chan error, 1)
				go func() { served <- srv.Serve(sconn) }()
				if err := cli.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
					t.Fatal(err)
				}
				in := expand(t, tc.TcID, "input", tc.Input)
				// The server may stop reading before the input's end:
				// write from a goroutine, and take its error as no
				// more than that.
				go func() {
					cli.Write(in)
					if tc.ErrorClass == "unexpected-eof" {
						cli.(interface{ CloseWrite() error }).CloseWrite()
					}
				}()
				got, err := io.ReadAll(cli)
				if err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("tcId %d (%s): reading what the server sent (%x): %v", tc.TcID, tc.ErrorClass, got, err)
				}
				var want []byte
				if tc.ErrorClass != "reset" && tc.ErrorClass != "unexpected-eof" {
					want = []byte{0xff, 0x01, 0, 0, 0, 0}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("tcId %d (%s): the server sent %x, want %x [ERR-1]", tc.TcID, tc.ErrorClass, got, want)
				}
				<-served
			})
		}
	}
	if played == 0 {
		t.Fatal("no message vector breaks inside a first request")
	}
}

// breaksFirstRequest: the vector's stream fails inside the first request
// of a connection, which is either a Header message alone or the Ping
// request header followed by its Data message.
func breaksFirstRequest(t *testing.T, tc format.MessageTest) bool {
	switch {
	case tc.ErrorClass == "":
		return false
	case slices.Equal(tc.Expect, []string{"01"}):
		return true
	case slices.Equal(tc.Expect, []string{"01", "02"}):
		return len(tc.Messages) == 1 && bytes.Equal(expand(t, tc.TcID, "body", tc.Messages[0].Body), pingRequest)
	}
	return false
}
