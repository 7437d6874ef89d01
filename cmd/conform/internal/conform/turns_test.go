package conform

import (
	"bytes"
	"testing"
)

// TestTurnsOfEveryConversation: the turns cover each side's bytes exactly,
// every server turn answers a client turn, and each turn starts where the
// protocol lets that side speak: a request or the hang-up (client), a
// reply header or an RST (server).
func TestTurnsOfEveryConversation(t *testing.T) {
	server, client := loadCases(t)
	seen := map[int]bool{}
	for _, c := range append(server.Play, client.Play...) {
		if c.Conv == nil || seen[c.TcID] {
			continue
		}
		seen[c.TcID] = true
		cb, err := c.Conv.ClientBytes.Expand()
		if err != nil {
			t.Fatal(err)
		}
		sb, err := c.Conv.ServerBytes.Expand()
		if err != nil {
			t.Fatal(err)
		}
		ct, st := splitTurns(cb, true), splitTurns(sb, false)
		for side, turns := range map[string][]turn{"client": ct, "server": st} {
			var all []byte
			for i, tn := range turns {
				all = append(all, tn.bytes...)
				if tn.bytes[0] != typeHeader && tn.bytes[0] != typeRST {
					t.Errorf("tcId %d: %s turn %d starts with %02x", c.TcID, side, i, tn.bytes[0])
				}
			}
			want := cb
			if side == "server" {
				want = sb
			}
			if !bytes.Equal(all, want) {
				t.Errorf("tcId %d: the %s turns do not add up to its bytes", c.TcID, side)
			}
		}
		if len(st) > len(ct) {
			t.Errorf("tcId %d: %d server turns for %d client turns", c.TcID, len(st), len(ct))
		}
	}
	// The shapes the runner's turn-taking depends on.
	for _, tc := range []struct {
		id             int
		client, server int
		rstEnds        bool
	}{
		{1, 2, 1, false},   // a call, then the hang-up
		{12, 1, 1, true},   // the reply header, then RST for the failed source
		{25, 2, 0, false},  // the request header, then RST instead of the body
		{110, 4, 3, false}, // two hellos, a call, the hang-up
	} {
		var conv *Case
		for i := range server.Play {
			if c := server.Play[i]; c.Conv != nil && c.TcID == tc.id {
				conv = &server.Play[i]
			}
		}
		if conv == nil {
			t.Fatalf("conversation %d not played against servers", tc.id)
		}
		cb, _ := conv.Conv.ClientBytes.Expand()
		sb, _ := conv.Conv.ServerBytes.Expand()
		ct, st := splitTurns(cb, true), splitTurns(sb, false)
		if len(ct) != tc.client || len(st) != tc.server || endsWithRST(st) != tc.rstEnds {
			t.Errorf("tcId %d: %d client turns, %d server turns, server ends with RST %v; want %d, %d, %v",
				tc.id, len(ct), len(st), endsWithRST(st), tc.client, tc.server, tc.rstEnds)
		}
	}
}
