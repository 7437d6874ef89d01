package conform

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/framerpc/framerpc/testvectors/format"
)

// The vector files the runner plays, by their names in testvectors/.
const (
	ConversationsFile = "conversations.json"
	MessagesFile      = "message_decode.json"
	HeadersFile       = "header_decode.json"
)

// Case is one vector the runner plays against an implementation.
type Case struct {
	File    string
	TcID    int
	Comment string
	Rules   []string
	Conv    *format.ConversationTest
	Msg     *format.MessageTest
	Hdr     *format.HeaderTest
}

// Cases are the vectors of one role, and those of the files that role
// cannot play, each with the reason.
type Cases struct {
	Play    []Case
	Skipped []Skipped
}

// Skipped is a vector a role does not play, and why.
type Skipped struct {
	File   string
	TcID   int
	Reason string
}

// Load reads the vector files from dir (testvectors/) and selects what each
// role plays.
func Load(dir string) (server, client Cases, err error) {
	conv, err := format.Load[format.ConversationTest](filepath.Join(dir, ConversationsFile))
	if err != nil {
		return server, client, err
	}
	msg, err := format.Load[format.MessageTest](filepath.Join(dir, MessagesFile))
	if err != nil {
		return server, client, err
	}
	for _, g := range conv.TestGroups {
		for i := range g.Tests {
			tc := &g.Tests[i]
			c := Case{File: ConversationsFile, TcID: tc.TcID, Comment: tc.Comment, Rules: tc.Rules, Conv: tc}
			switch tc.Replay {
			case "both":
				server.Play = append(server.Play, c)
				client.Play = append(client.Play, c)
			case "server":
				server.Play = append(server.Play, c)
				client.Skipped = append(client.Skipped, Skipped{c.File, c.TcID, "replay is \"server\": the vector's server bytes are not what a conforming server writes to this client, so they cannot check one"})
			case "client":
				client.Play = append(client.Play, c)
				server.Skipped = append(server.Skipped, Skipped{c.File, c.TcID, "replay is \"client\": the vector's client bytes are not what a conforming client sends, or its server bytes are not a conforming server's"})
			default:
				return server, client, fmt.Errorf("%s tcId %d: replay %q", ConversationsFile, tc.TcID, tc.Replay)
			}
		}
	}
	for _, g := range msg.TestGroups {
		for i := range g.Tests {
			tc := &g.Tests[i]
			c := Case{File: MessagesFile, TcID: tc.TcID, Comment: tc.Comment, Rules: tc.Rules, Msg: tc}
			if why := requestStreamProblem(tc); why != "" {
				server.Skipped = append(server.Skipped, Skipped{c.File, c.TcID, why})
				continue
			}
			server.Play = append(server.Play, c)
		}
	}
	hdr, err := format.Load[format.HeaderTest](filepath.Join(dir, HeadersFile))
	if err != nil {
		return server, client, err
	}
	for _, g := range hdr.TestGroups {
		for i := range g.Tests {
			tc := &g.Tests[i]
			server.Play = append(server.Play, Case{File: HeadersFile, TcID: tc.TcID, Comment: tc.Comment, Rules: tc.Rules, Hdr: tc})
		}
	}
	return server, client, nil
}

// pingRequest is the request header of the fixture's Ping with a
// JSON body and a JSON reply, the one request the message vectors send.
var pingRequest = []byte(`{"Endpoint":"Ping","DataType":2,"Accept":2,"Error":0,"ErrorMessage":""}` + "\n")

// requestStreamProblem tells why a message vector cannot be sent to a
// server as the start of a connection, or "" if it can. It can when it is
// the start of a request whose outcome is fixed without a reply: the
// stream fails (errorClass) inside the first request, which is either a
// lone Header message or the Ping request header followed by its Data
// message. A server must then send nothing but at most one RST, and close.
func requestStreamProblem(tc *format.MessageTest) string {
	switch {
	case tc.ErrorClass == "":
		return "the stream ends cleanly: what a server answers depends on the header's content, which the message vectors do not choose to be a request"
	case !slices.Equal(tc.Expect, []string{"01"}) && !slices.Equal(tc.Expect, []string{"01", "02"}):
		return fmt.Sprintf("expect %v is not the start of a request (a Header message, or the Ping header and its Data body)", tc.Expect)
	case len(tc.Expect) == 2 && (len(tc.Messages) != 1 || !isPing(tc.Messages[0])):
		return "the first message is not the Ping request header, so a server would not expect the Data message that follows"
	}
	return ""
}

func isPing(m format.Message) bool {
	if m.Type != "01" {
		return false
	}
	b, err := m.Body.Expand()
	return err == nil && string(b) == string(pingRequest)
}
