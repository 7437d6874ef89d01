//go:build ignore

// corpus.go turns the Go seed corpus of one target (the files of
// testdata/fuzz/<Target>/, format `go test fuzz v1`) into the seed corpus
// zip OSS-Fuzz and ClusterFuzzLite take for the libFuzzer binary built
// from it. The binary does not read Go's format: go-118-fuzz-build hands
// the raw input to go-fuzz-headers, which cuts each argument out of it in
// turn (a []byte or string as a 4-byte big-endian length and the bytes,
// a uint16 as two bytes and an endianness byte, ...). This program writes
// that layout and then decodes every entry with go-fuzz-headers itself,
// keeping only those that give back exactly the Go values, so a change in
// the library's layout loses seeds rather than feeding wrong ones.
//
// It has the ignore build tag because it imports go-fuzz-headers, which is
// a dependency of the libFuzzer build only: build.sh runs it in its
// temporary copy of the module, whose go.mod has it, with
//
//	go run fuzz/oss-fuzz/corpus.go -fn FuzzX -dir DIR -zip OUT.zip
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	fuzz "github.com/AdaLogics/go-fuzz-headers"
)

func main() {
	dir := flag.String("dir", "", "directory of Go corpus files")
	out := flag.String("zip", "", "zip file to write")
	fn := flag.String("fn", "", "target name, for messages")
	flag.Parse()
	paths, err := filepath.Glob(filepath.Join(*dir, "*"))
	if err != nil {
		log.Fatal(err)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	kept, dropped := 0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		vals, err := parseCorpusFile(b)
		if err != nil {
			log.Fatalf("%s: %v", p, err)
		}
		enc := encode(vals)
		if !reflect.DeepEqual(decode(enc, vals), vals) {
			dropped++
			continue
		}
		w, err := zw.Create(filepath.Base(p))
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write(enc); err != nil {
			log.Fatal(err)
		}
		kept++
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d seeds, %d not representable (an empty trailing []byte or string)\n", *fn, kept, dropped)
}

// parseCorpusFile reads the values of a `go test fuzz v1` file.
func parseCorpusFile(b []byte) ([]any, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("not a go test fuzz v1 file")
	}
	var vals []any
	for _, line := range lines[1:] {
		e, err := parser.ParseExpr(line)
		if err != nil {
			return nil, err
		}
		call, ok := e.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return nil, fmt.Errorf("%q: not a conversion", line)
		}
		var typ string
		switch f := call.Fun.(type) {
		case *ast.Ident:
			typ = f.Name
		case *ast.ArrayType:
			typ = "[]byte"
		}
		var lit string
		switch a := call.Args[0].(type) {
		case *ast.BasicLit:
			lit = a.Value
		case *ast.Ident:
			lit = a.Name
		case *ast.UnaryExpr:
			if x, ok := a.X.(*ast.BasicLit); ok && a.Op == token.SUB {
				lit = "-" + x.Value
			}
		}
		v, err := value(typ, lit)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

func value(typ, lit string) (any, error) {
	switch typ {
	case "[]byte":
		s, err := strconv.Unquote(lit)
		return []byte(s), err
	case "string":
		return strconv.Unquote(lit)
	case "byte", "uint8":
		s, err := strconv.Unquote(lit)
		if err != nil {
			n, err := strconv.ParseUint(lit, 0, 8)
			return byte(n), err
		}
		r, _ := utf8.DecodeRuneInString(s)
		if len(s) == 1 {
			r = rune(s[0])
		}
		return byte(r), nil
	case "uint16":
		n, err := strconv.ParseUint(lit, 0, 16)
		return uint16(n), err
	case "uint32":
		n, err := strconv.ParseUint(lit, 0, 32)
		return uint32(n), err
	case "int64":
		n, err := strconv.ParseInt(lit, 0, 64)
		return n, err
	case "bool":
		return strconv.ParseBool(lit)
	}
	return nil, fmt.Errorf("type %s not supported", typ)
}

// encode lays the values out as go-fuzz-headers reads them.
func encode(vals []any) []byte {
	var b []byte
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case byte:
			b = append(b, v)
		case uint16:
			// An even endianness byte means little-endian.
			b = binary.LittleEndian.AppendUint16(b, v)
			b = append(b, 0)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
			b = append(b, 0)
		case bool:
			// An even byte is true.
			if v {
				b = append(b, 0)
			} else {
				b = append(b, 1)
			}
		}
	}
	return b
}

// decode reads values of the types of like from b as the shim's F.Fuzz
// does, or returns nil where it would not call the target.
func decode(b []byte, like []any) []any {
	c := fuzz.NewConsumer(b)
	var out []any
	for _, v := range like {
		var got any
		var err error
		switch v.(type) {
		case []byte:
			got, err = c.GetBytes()
		case string:
			got, err = c.GetString()
		case byte:
			got, err = c.GetByte()
		case uint16:
			got, err = c.GetUint16()
		case uint32:
			got, err = c.GetUint32()
		case int64:
			var u uint64
			u, err = c.GetUint64()
			got = int64(u)
		case bool:
			got, err = c.GetBool()
		}
		if err != nil {
			return nil
		}
		out = append(out, got)
	}
	return out
}
