package fastjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// kind is what a codec does with a Go type; only these kinds are modelled.
type kind uint8

const (
	kBool kind = iota
	kInt
	kUint
	kFloat32
	kFloat64
	kString
	kStruct
	kSlice
	kPointer
)

// codec is the compiled plan for one Go type.
type codec struct {
	typ    reflect.Type
	kind   kind
	elem   *codec  // kSlice, kPointer
	fields []field // kStruct, in declaration order: encoding/json's order
}

// field is one encoded struct field.
type field struct {
	name      string // the JSON name: ASCII letters, digits and '_' only
	key       string // `"name":` as encoding/json writes it
	index     int
	c         *codec
	omitEmpty bool
	omitZero  bool
}

// maxDepth bounds the nesting the fast path follows, far below
// encoding/json's own limits (10000 levels when decoding, cycle detection
// after 1000 pointers when encoding), so that deeper inputs and values are
// always left to encoding/json.
const maxDepth = 500

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
	numberType          = reflect.TypeFor[json.Number]()
)

// codecs caches the compiled codec of every type asked for; a nil *codec
// records a type the fast path declines.
var (
	codecs  sync.Map // reflect.Type -> *codec
	buildMu sync.Mutex
)

// Supported reports whether values of type t can go through the fast path
// at all.
func Supported(t reflect.Type) bool { return t != nil && lookup(t) != nil }

func lookup(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	b := builder{seen: map[reflect.Type]*codec{}}
	c := b.build(t)
	if b.failed {
		// Types built on the way may be fine on their own, but some may be
		// half-built (a recursive reference into t); compile them again when
		// they are asked for.
		codecs.Store(t, (*codec)(nil))
		return nil
	}
	for bt, bc := range b.seen {
		codecs.Store(bt, bc)
	}
	return c
}

// builder compiles one type and everything it contains. seen holds the
// codecs under construction, which is what lets a recursive type refer to
// itself.
type builder struct {
	seen   map[reflect.Type]*codec
	failed bool
}

func (b *builder) fail() *codec {
	b.failed = true
	return nil
}

func (b *builder) build(t reflect.Type) *codec {
	if c, ok := b.seen[t]; ok {
		return c
	}
	if hasJSONMethods(t) || t == numberType {
		return b.fail()
	}
	c := &codec{typ: t}
	b.seen[t] = c
	switch t.Kind() {
	case reflect.Bool:
		c.kind = kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.kind = kInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.kind = kUint
	case reflect.Float32:
		c.kind = kFloat32
	case reflect.Float64:
		c.kind = kFloat64
	case reflect.String:
		c.kind = kString
	case reflect.Pointer:
		c.kind = kPointer
		c.elem = b.build(t.Elem())
	case reflect.Slice:
		// A slice of a uint8 kind is base64 text in encoding/json.
		if t.Elem().Kind() == reflect.Uint8 {
			return b.fail()
		}
		c.kind = kSlice
		c.elem = b.build(t.Elem())
	case reflect.Struct:
		c.kind = kStruct
		b.buildStruct(c)
	default:
		return b.fail()
	}
	if b.failed {
		return nil
	}
	return c
}

// hasJSONMethods reports whether encoding/json would hand values of t, or
// pointers to them, to the type's own marshaling methods.
func hasJSONMethods(t reflect.Type) bool {
	for _, x := range [...]reflect.Type{t, reflect.PointerTo(t)} {
		if x.Implements(marshalerType) || x.Implements(unmarshalerType) ||
			x.Implements(textMarshalerType) || x.Implements(textUnmarshalerType) {
			return true
		}
	}
	return false
}

// buildStruct lists the fields encoding/json sees in a struct without
// embedded fields: the exported ones not tagged "-", named by their tag or
// else their Go name, in declaration order. Anything that would need
// encoding/json's rules for embedding, name conflicts, quoting or escaping
// is declined.
func (b *builder) buildStruct(c *codec) {
	t := c.typ
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			b.fail()
			return
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		// encoding/json ignores a tag name it finds invalid; a plain name is
		// valid for it, so both packages agree on every name accepted here.
		if !plainName(name) || hasOption(opts, "string") {
			b.fail()
			return
		}
		for _, f := range c.fields {
			if f.name == name {
				b.fail()
				return
			}
		}
		f := field{
			name:      name,
			key:       `"` + name + `":`,
			index:     i,
			omitEmpty: hasOption(opts, "omitempty"),
			omitZero:  hasOption(opts, "omitzero"),
		}
		if f.omitZero && (sf.Type.Implements(isZeroerType) || reflect.PointerTo(sf.Type).Implements(isZeroerType)) {
			b.fail()
			return
		}
		f.c = b.build(sf.Type)
		if b.failed {
			return
		}
		c.fields = append(c.fields, f)
	}
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated tag options list opt.
func hasOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}
