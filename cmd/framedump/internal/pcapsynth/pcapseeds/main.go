// Command pcapseeds writes, as JSON on standard output (a map from seed
// name to file bytes), packet captures of every conversation in
// testvectors/captures, in pcap and pcapng: the seed corpus of pcapread's
// FuzzRead. fuzz/internal/seedgen runs it and writes the files with the
// other targets' seeds; it lives here because pcapsynth is internal to
// framedump.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapsynth"
)

func main() {
	root := flag.String("root", ".", "module root to read testvectors/captures from")
	flag.Parse()
	paths, err := filepath.Glob(filepath.Join(*root, "testvectors", "captures", "*.client.bin"))
	if err != nil {
		log.Fatal(err)
	}
	out := map[string][]byte{}
	for _, cp := range paths {
		name := strings.TrimSuffix(filepath.Base(cp), ".client.bin")
		client, err := os.ReadFile(cp)
		if err != nil {
			log.Fatal(err)
		}
		server, err := os.ReadFile(strings.TrimSuffix(cp, ".client.bin") + ".server.bin")
		if err != nil {
			log.Fatal(err)
		}
		conn := &pcapsynth.Conn{Client: netip.MustParseAddrPort("127.0.0.1:40000"), Server: netip.MustParseAddrPort("127.0.0.1:7000"),
			ClientBytes: client, ServerBytes: server}
		packets, err := conn.Packets()
		if err != nil {
			log.Fatal(err)
		}
		for f, ext := range map[pcapsynth.Format]string{pcapsynth.PCAP: "pcap", pcapsynth.PCAPNG: "pcapng"} {
			var b bytes.Buffer
			if err := pcapsynth.Write(&b, f, packets); err != nil {
				log.Fatal(err)
			}
			out["capture-"+name+"."+ext] = b.Bytes()
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		log.Fatal(err)
	}
}
