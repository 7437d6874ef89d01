// Command seedgen writes the seed corpora of framerpc's fuzz targets, the
// files under <package>/testdata/fuzz/<Target>/seed-*, from the test
// vectors and the captures in testvectors/. A fuzz run starts from them
// (and `go test` runs each as a test case), so every target begins with
// every stream and header the vectors know, valid and broken.
//
//	go run ./fuzz/internal/seedgen            # rewrite the seed files
//	sh fuzz/check-seeds.sh                    # fail if they are stale
//
// Only files named seed-* are the generator's: the other files in those
// directories are crashers kept as regression entries (fuzz/README.md),
// which it never touches. An input above maxSeed bytes is left out: a
// corpus entry is run on every fuzzing iteration's mutation base, and a
// large one slows every target for little new coverage.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/framerpc/framerpc/frame"
	"github.com/framerpc/framerpc/fuzz/internal/rpcseeds"
	"github.com/framerpc/framerpc/internal/wire"
	"github.com/framerpc/framerpc/testvectors/format"
)

const maxSeed = 64 << 10

// corpus is the seeds of one target: file name -> encoded file.
type corpus struct {
	dir   string // package directory, relative to the module root
	files map[string][]byte
	seen  map[string]bool
}

type gen struct {
	root    string
	targets map[string]*corpus
}

func (g *gen) target(dir, name string) *corpus {
	key := dir + "/" + name
	if c, ok := g.targets[key]; ok {
		return c
	}
	c := &corpus{dir: filepath.Join(dir, "testdata", "fuzz", name), files: map[string][]byte{}, seen: map[string]bool{}}
	g.targets[key] = c
	return c
}

// add records one seed: the target's arguments in the order of its fuzz
// function. Duplicates (by content) are dropped; the first name wins.
func (c *corpus) add(name string, args ...any) {
	for _, a := range args {
		if b, ok := a.([]byte); ok && len(b) > maxSeed {
			return
		}
	}
	enc := encode(args...)
	if c.seen[string(enc)] {
		return
	}
	c.seen[string(enc)] = true
	c.files["seed-"+name] = enc
}

// encode writes a corpus file in the format of `go test fuzz v1`: one Go
// literal per argument.
func encode(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case uint16, uint32, int64, bool:
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		default:
			log.Fatalf("seedgen: no corpus encoding for %T", a)
		}
	}
	return b.Bytes()
}

func main() {
	root := flag.String("root", ".", "module root to read testvectors/ from")
	out := flag.String("out", ".", "module root to write the testdata/fuzz directories into")
	flag.Parse()
	g := &gen{root: *root, targets: map[string]*corpus{}}
	g.captures()
	g.frameVectors()
	g.messageVectors()
	g.headerVectors()
	g.conversations()
	g.localRemote()
	g.rpcSeeds()
	g.pcaps()
	if err := g.write(*out); err != nil {
		log.Fatal(err)
	}
}

func (g *gen) path(p ...string) string {
	return filepath.Join(append([]string{g.root, "testvectors"}, p...)...)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// messageTypes returns, as FuzzMessageStream's types argument, the type of
// each message of a well-framed stream: byte t-1 for type t.
func messageTypes(stream []byte) []byte {
	var types []byte
	r := frame.NewReader(bytes.NewReader(stream))
	boundary := true
	for {
		h, err := r.ReadHeader()
		if err != nil || !h.Type.IsMessage() {
			return types
		}
		if boundary {
			types = append(types, byte(h.Type)-1)
		}
		boundary = h.Final
	}
}

// headerBodies returns the bodies of the Header and Trailer messages of a
// stream.
func headerBodies(stream []byte) [][]byte {
	var out [][]byte
	r := frame.NewReader(bytes.NewReader(stream))
	for _, t := range messageTypes(stream) {
		m, err := r.NextMessage(frame.Type(t + 1))
		if err != nil {
			return out
		}
		body, err := io.ReadAll(m)
		if err != nil {
			return out
		}
		if t+1 != byte(frame.TypeData) {
			out = append(out, body)
		}
	}
	return out
}

func (g *gen) headerSeeds(name string, body []byte) {
	g.target("internal/wire", "FuzzParseHeader").add(name, body)
	var h wire.Header
	if wire.ParseHeader(body, &h, "") != nil {
		return
	}
	g.target("internal/wire", "FuzzHeaderRoundTrip").add(name, h.Endpoint, uint32(h.DataType), uint32(h.Accept),
		uint32(h.Error), h.ErrorMessage, strings.Join(h.Extensions, "\x00"), h.HasExtensions)
}

func (g *gen) captures() {
	paths, err := filepath.Glob(g.path("captures", "*.client.bin"))
	must(err)
	for _, cp := range paths {
		name := strings.TrimSuffix(filepath.Base(cp), ".client.bin")
		client, err := os.ReadFile(cp)
		must(err)
		server, err := os.ReadFile(strings.TrimSuffix(cp, ".client.bin") + ".server.bin")
		must(err)
		g.target("fuzz", "FuzzServer").add("capture-"+name, client)
		g.target("fuzz", "FuzzClient").add("capture-"+name, server, byte(0))
		g.target("cmd/framedump/internal/dump", "FuzzDecode").add("capture-"+name,
			append(append([]byte{}, client...), server...), uint16(len(client)))
		// In a fixed order: a seed equal to an earlier one is dropped, so
		// the order decides which name a shared seed gets.
		for _, d := range []struct {
			side string
			s    []byte
		}{{"client", client}, {"server", server}} {
			s := d.s
			n := "capture-" + name + "." + d.side
			g.target("fuzz", "FuzzFrameStream").add(n, s)
			g.target("fuzz", "FuzzMessageStream").add(n, s, messageTypes(s))
			g.target("fuzz", "FuzzMessageReader").add(n, s, messageTypes(s), []byte{1, 7}, []byte{0, 100}, uint16(frame.HeaderSize))
			g.target("cmd/framedump/internal/dump", "FuzzDecode").add(n, s, uint16(0))
			for i, h := range headerBodies(s) {
				g.headerSeeds(fmt.Sprintf("%s-%d", n, i), h)
			}
		}
	}
}

func tc(kind string, id int) string { return fmt.Sprintf("%s-tc%d", kind, id) }

// oneTest is a vector file holding a single test, FuzzVectorFile's seed.
func oneTest[T any](f *format.File[T], g format.Group[T], t T) []byte {
	one := *f
	// The file-wide prose and notes would make every seed 8 KiB of the
	// same text; one note is kept so that the map is exercised.
	one.Header = nil
	one.Notes = nil
	if len(f.Notes) > 0 {
		keys := make([]string, 0, len(f.Notes))
		for k := range f.Notes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		one.Notes = map[string]format.Note{keys[0]: f.Notes[keys[0]]}
	}
	g.Tests = []T{t}
	one.TestGroups = []format.Group[T]{g}
	one.NumberOfTests = 1
	b, err := format.Marshal(&one)
	must(err)
	return b
}

func (g *gen) frameVectors() {
	f, err := format.Load[format.FrameTest](g.path("frame_decode.json"))
	must(err)
	for _, grp := range f.TestGroups {
		for _, t := range grp.Tests {
			in, err := t.Input.Expand()
			must(err)
			name := tc("frame", t.TcID)
			g.target("fuzz", "FuzzFrameStream").add(name, in)
			g.target("cmd/framedump/internal/dump", "FuzzDecode").add(name, in, uint16(0))
			if len(in) >= frame.HeaderSize {
				g.target("fuzz", "FuzzFrameHeader").add(name, in[:frame.HeaderSize], int64(0))
			}
			g.target("testvectors/format", "FuzzVectorFile").add(name, oneTest(f, grp, t))
		}
	}
}

func (g *gen) messageVectors() {
	f, err := format.Load[format.MessageTest](g.path("message_decode.json"))
	must(err)
	for _, grp := range f.TestGroups {
		for _, t := range grp.Tests {
			in, err := t.Input.Expand()
			must(err)
			var types []byte
			for _, e := range t.Expect {
				b, err := hex.DecodeString(e)
				must(err)
				types = append(types, b[0]-1)
			}
			name := tc("message", t.TcID)
			g.target("fuzz", "FuzzFrameStream").add(name, in)
			g.target("fuzz", "FuzzMessageStream").add(name, in, types)
			g.target("fuzz", "FuzzMessageReader").add(name, in, types, []byte{3}, []byte{4}, uint16(64))
			g.target("cmd/framedump/internal/dump", "FuzzDecode").add(name, in, uint16(0))
			g.target("testvectors/format", "FuzzVectorFile").add(name, oneTest(f, grp, t))
			for i, m := range t.Messages {
				body, err := m.Body.Expand()
				must(err)
				g.target("fuzz", "FuzzRoundTrip").add(fmt.Sprintf("%s-%d", name, i), body, []byte{1, 0, 3})
			}
		}
	}
}

func (g *gen) headerVectors() {
	f, err := format.Load[format.HeaderTest](g.path("header_decode.json"))
	must(err)
	for _, grp := range f.TestGroups {
		for _, t := range grp.Tests {
			in, err := t.Input.Expand()
			must(err)
			g.headerSeeds(tc("header", t.TcID), in)
			g.target("testvectors/format", "FuzzVectorFile").add(tc("header", t.TcID), oneTest(f, grp, t))
		}
	}
}

func (g *gen) conversations() {
	f, err := format.Load[format.ConversationTest](g.path("conversations.json"))
	must(err)
	for _, grp := range f.TestGroups {
		for _, t := range grp.Tests {
			client, err := t.ClientBytes.Expand()
			must(err)
			server, err := t.ServerBytes.Expand()
			must(err)
			name := tc("conversation", t.TcID)
			g.target("fuzz", "FuzzServer").add(name, client)
			g.target("fuzz", "FuzzClient").add(name, server, byte(0))
			if len(client)+len(server) <= maxSeed {
				g.target("cmd/framedump/internal/dump", "FuzzDecode").add(name,
					append(append([]byte{}, client...), server...), uint16(len(client)))
			}
			g.target("testvectors/format", "FuzzVectorFile").add(name, oneTest(f, grp, t))
		}
	}
}

// localRemote: FuzzLocalRemote's input is calls of 4 bytes (endpoint,
// argument low and high, flags); each seed calls one endpoint five ways
// (plain, long argument, text "fail", over the server's JSON limit,
// cancelled or with a failing pushed stream), for each of its 11
// endpoints.
func (g *gen) localRemote() {
	for op := byte(0); op < 11; op++ {
		g.target("fuzz", "FuzzLocalRemote").add(fmt.Sprintf("endpoint-%d", op),
			[]byte{op, 10, 0, 0, op, 200, 1, 2, op, 5, 0, 3, op, 7, 0, 8, op, 1, 0, 4})
	}
}

// rpcSeeds: the hand-made seeds of FuzzServer and FuzzClient (those of
// at most maxSeed bytes; the targets add the others in code).
func (g *gen) rpcSeeds() {
	for _, s := range rpcseeds.Hostile() {
		g.target("fuzz", "FuzzServer").add(s.Name, s.In)
	}
	for _, s := range rpcseeds.Client() {
		g.target("fuzz", "FuzzClient").add(s.Name, s.In, s.Opts)
	}
}

// pcaps: pcapread's FuzzRead starts from every capture written as pcap and
// pcapng, made by framedump's own synthesiser (internal to framedump, so
// run as its command pcapseeds).
func (g *gen) pcaps() {
	cmd := exec.Command("go", "run", "./cmd/framedump/internal/pcapsynth/pcapseeds", "-root", g.root)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	must(err)
	var files map[string][]byte
	must(json.Unmarshal(b, &files))
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g.target("cmd/framedump/internal/pcapread", "FuzzRead").add(n, files[n])
	}
}

// write replaces the seed-* files of every target directory under out.
func (g *gen) write(out string) error {
	keys := make([]string, 0, len(g.targets))
	for k := range g.targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := g.targets[k]
		dir := filepath.Join(out, c.dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		old, err := filepath.Glob(filepath.Join(dir, "seed-*"))
		if err != nil {
			return err
		}
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
		for name, b := range c.files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d seeds\n", c.dir, len(c.files))
	}
	return nil
}
