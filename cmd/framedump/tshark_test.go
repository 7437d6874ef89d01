package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/framerpc/framerpc/cmd/framedump/internal/pcapread"
)

// patternBytes returns n bytes that do not repeat at any power-of-two period,
// so a dropped, repeated or misplaced segment shows.
func patternBytes(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i + seed) % 251)
	}
	return b
}

// sameStream checks that d holds exactly want and ends cleanly.
func sameStream(t *testing.T, name string, d *pcapread.Direction, want []byte) {
	t.Helper()
	got, err := io.ReadAll(d.Open())
	if err != nil {
		t.Errorf("%s: error %v, want a clean end", name, err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: %d bytes, want %d; first difference at %d", name, len(got), len(want), i)
	}
}

// needTools fails (never skips: a skipped test is a failing test) when
// the capture tools are missing.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"tcpdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; this test needs it: apt-get install -y tshark tcpdump (.ci/run does)", tool)
		}
	}
}

// packetLayers is one packet of tshark's JSON output.
type packetLayers map[string]json.RawMessage

// tshark runs tshark with the dissector on file, framerpc on port (0: none
// set; extra says how to find it), and
// returns the layers named in layers (as -J takes them) of every packet
// the display filter selects ("": every packet). extra are more tshark
// options.
func tshark(t *testing.T, file string, port int, filter, layers string, extra ...string) []packetLayers {
	t.Helper()
	// Reading the script makes it an input of the test for go test's
	// cache: tshark reading it would not.
	if _, err := os.ReadFile("wireshark/framerpc.lua"); err != nil {
		t.Fatal(err)
	}
	lua, err := filepath.Abs("wireshark/framerpc.lua")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", file, "-X", "lua_script:" + lua, "-T", "json", "--no-duplicate-keys", "-J", layers}
	if port != 0 {
		args = append(args, "-o", fmt.Sprintf("framerpc.tcp_port:%d", port))
	}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	args = append(args, extra...)
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || bytes.Contains(stderr.Bytes(), []byte("Lua")) {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var packets []struct {
		Source struct {
			Layers packetLayers `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &packets); err != nil {
		t.Fatalf("tshark output: %v", err)
	}
	res := make([]packetLayers, len(packets))
	for i, p := range packets {
		res[i] = p.Source.Layers
	}
	return res
}

// layerItems returns the items of a layer tshark printed as one object or,
// with several items in a packet, as an array.
func layerItems(t *testing.T, raw json.RawMessage) []map[string]json.RawMessage {
	t.Helper()
	if raw == nil {
		return nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err == nil {
		return items
	}
	var one map[string]json.RawMessage
	if err := json.Unmarshal(raw, &one); err != nil {
		t.Fatalf("tshark layer: %v: %s", err, raw)
	}
	return []map[string]json.RawMessage{one}
}

// jstr returns the string tshark printed for field k of m ("" if absent).
func jstr(t *testing.T, m map[string]json.RawMessage, k string) string {
	t.Helper()
	v, ok := m[k]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		t.Fatalf("tshark field %s: %s", k, v)
	}
	return s
}

// jstrs returns the strings tshark printed for field k of m, which it
// prints as one string when the field occurs once and as an array when it
// repeats (--no-duplicate-keys).
func jstrs(t *testing.T, m map[string]json.RawMessage, k string) []string {
	t.Helper()
	v, ok := m[k]
	if !ok {
		return nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err == nil {
		return list
	}
	return []string{jstr(t, m, k)}
}

// jnum returns field k of m as a number (0 if absent).
func jnum(t *testing.T, m map[string]json.RawMessage, k string) int64 {
	t.Helper()
	s := jstr(t, m, k)
	if s == "" {
		return 0
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("tshark field %s: %q", k, s)
	}
	return n
}

// subtree returns the children tshark printed under field k.
func subtree(t *testing.T, m map[string]json.RawMessage, k string) map[string]json.RawMessage {
	t.Helper()
	raw, ok := m[k+"_tree"]
	if !ok {
		return nil
	}
	var sub map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sub); err != nil {
		t.Fatalf("tshark %s_tree: %v", k, err)
	}
	return sub
}
