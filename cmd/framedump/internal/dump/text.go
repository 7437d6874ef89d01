package dump

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// prefix is the start of a line: the stream's initial in a conversation,
// then the stream offset in decimal and hex.
func (e *emitter) prefix(stream string, off int64) string {
	p := ""
	if e.conv {
		p = "C "
		if stream == "server" {
			p = "S "
		}
	}
	return fmt.Sprintf("%s%10d 0x%08x  ", p, off, off)
}

// indent is the start of a line that continues the one above.
func (e *emitter) indent() string {
	if e.conv {
		return strings.Repeat(" ", 2+10+1+10+2+2)
	}
	return strings.Repeat(" ", 10+1+10+2+2)
}

func (e *emitter) text(ev Event) error {
	var b strings.Builder
	switch ev := ev.(type) {
	case *Frame:
		b.WriteString(e.prefix(ev.Stream, ev.Offset))
		flag := "more "
		if ev.Final {
			flag = "final"
		}
		fmt.Fprintf(&b, "%-7s %s len %d", ev.Type, flag, ev.Length)
		if !ev.Canonical {
			b.WriteString(" (non-canonical RST)")
		}
		b.WriteByte('\n')
		for _, l := range ev.Hex {
			b.WriteString(e.indent() + "  " + l + "\n")
		}
		if ev.HexOmitted > 0 {
			fmt.Fprintf(&b, "%s  ... %d more bytes (-xlines -1 shows all)\n", e.indent(), ev.HexOmitted)
		}
	case *Message:
		b.WriteString(e.indent())
		fmt.Fprintf(&b, "%s (%s)", roleText(ev), sizeText(ev))
		if ev.Header != nil {
			b.WriteString(": " + headerText(ev.Header, ev.Role))
		}
		if ev.JSON != nil {
			b.WriteString(": " + quoteIfNeeded(*ev.JSON))
			if ev.JSONCut {
				b.WriteString("...")
			}
		}
		if ev.SHA256 != "" {
			b.WriteString(": sha256 " + ev.SHA256)
		}
		b.WriteByte('\n')
	case *Exchange:
		b.WriteString(exchangeText(ev))
	case *Fault:
		if e.conv {
			b.WriteString(e.prefix(ev.Stream, ev.Offset)[:2])
		}
		fmt.Fprintf(&b, "error at offset %d (0x%x): %s", ev.Offset, ev.Offset, ev.Class)
		if ev.Rule != "" {
			fmt.Fprintf(&b, " [%s]", ev.Rule)
		}
		fmt.Fprintf(&b, ": %s\n", ev.Detail)
	case *End:
		if ev.How == "reset" {
			fmt.Fprintf(&b, "%s%s [%s]: %s\n", e.indent(), ev.Class, ev.Rule, ev.Meaning)
		} else {
			fmt.Fprintf(&b, "%send of stream at offset %d: %s\n", e.prefix(ev.Stream, ev.Offset), ev.Offset, ev.Meaning)
		}
	}
	_, err := e.w.WriteString(b.String())
	return err
}

var roleNames = map[string]string{
	"request-header":  "request header",
	"reply-header":    "reply header",
	"request-json":    "request JSON body",
	"request-octets":  "request octets body",
	"reply-json":      "reply JSON body",
	"reply-octets":    "reply octets body",
	"request-trailer": "request trailer",
	"reply-trailer":   "reply trailer",
	"header":          "header",
	"message":         "message",
}

func roleText(m *Message) string {
	s := roleNames[m.Role]
	if s == "" {
		s = m.Role
	}
	if m.Exchange > 0 {
		s = fmt.Sprintf("#%d %s", m.Exchange, s)
	}
	return s
}

func sizeText(m *Message) string {
	fr := "frames"
	if m.Frames == 1 {
		fr = "frame"
	}
	return fmt.Sprintf("%s, %d B in %d %s", m.Type, m.Length, m.Frames, fr)
}

func kindName(d uint32) string {
	switch d {
	case 1:
		return "None"
	case 2:
		return "JSON"
	case 3:
		return "Octets"
	case 4:
		return "JSON+Octets"
	}
	return "?"
}

func statusName(s uint32) string {
	switch s {
	case 1:
		return "OK"
	case 2:
		return "RequestError"
	case 3:
		return "ServerError"
	case 4:
		return "Error"
	}
	return "?"
}

func headerText(h *Header, role string) string {
	var b strings.Builder
	if strings.HasSuffix(role, "trailer") {
		// A trailer uses two members [RPC-48]; the others show only when
		// a sender put them there.
		fmt.Fprintf(&b, "Error=%d(%s) ErrorMessage=%s", h.Error, statusName(h.Error), strconv.Quote(h.ErrorMessage))
		if h.Endpoint != "" || h.DataType != 0 || h.Accept != 0 {
			fmt.Fprintf(&b, " Endpoint=%s DataType=%d Accept=%d", strconv.Quote(h.Endpoint), h.DataType, h.Accept)
		}
	} else {
		fmt.Fprintf(&b, "Endpoint=%s DataType=%s Accept=%s Error=%s ErrorMessage=%s",
			strconv.Quote(h.Endpoint), named(h.DataType, kindName), named(h.Accept, kindName),
			named(h.Error, statusName), strconv.Quote(h.ErrorMessage))
	}
	if h.Timeout != nil {
		fmt.Fprintf(&b, " Timeout=%dms", *h.Timeout)
	}
	if h.HasExtensions {
		q := make([]string, len(h.Extensions))
		for i, x := range h.Extensions {
			q[i] = strconv.Quote(x)
		}
		fmt.Fprintf(&b, " Extensions=[%s]", strings.Join(q, ","))
	}
	for _, u := range h.Unknown {
		fmt.Fprintf(&b, " unknown:%s=%s", strconv.Quote(u.Name), quoteIfNeeded(u.Value))
	}
	return b.String()
}

// named shows a number with its name, when it has one.
func named(n uint32, name func(uint32) string) string {
	if s := name(n); s != "?" {
		return fmt.Sprintf("%d(%s)", n, s)
	}
	return strconv.FormatUint(uint64(n), 10)
}

// quoteIfNeeded shows JSON text as is unless it holds bytes a terminal
// would not show faithfully.
func quoteIfNeeded(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return strconv.Quote(s)
	}
	return s
}

func bodyText(kind string, js, oct int64) string {
	switch {
	case js >= 0 && oct >= 0:
		return fmt.Sprintf("%s(%d+%d B)", kind, js, oct)
	case js >= 0:
		return fmt.Sprintf("%s(%d B)", kind, js)
	case oct >= 0:
		return fmt.Sprintf("%s(%d B)", kind, oct)
	}
	return kind
}

func exchangeText(x *Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "== exchange %d: ", x.Index)
	if x.Hello {
		fmt.Fprintf(&b, "hello, asked [%s]", strings.Join(x.Asked, " "))
		if x.Status != "" {
			fmt.Fprintf(&b, " -> %s, granted [%s]", x.Status, strings.Join(x.Granted, " "))
		}
	} else {
		fmt.Fprintf(&b, "%s %s", strconv.Quote(x.Endpoint), bodyText(x.RequestType, x.RequestJSON, x.RequestOctets))
		if x.RequestTrailer != nil {
			fmt.Fprintf(&b, " trailer %s", tailText(x.RequestTrailer))
		}
		fmt.Fprintf(&b, " accept %s", x.Accept)
		if x.Status != "" {
			fmt.Fprintf(&b, " -> %s", x.Status)
			if x.ErrorMessage != "" {
				fmt.Fprintf(&b, " %s", strconv.Quote(x.ErrorMessage))
			}
			if x.ReplyType != "" && x.Status == "OK" {
				fmt.Fprintf(&b, " %s", bodyText(x.ReplyType, x.ReplyJSON, x.ReplyOctets))
			}
			if x.ReplyTrailer != nil {
				fmt.Fprintf(&b, " trailer %s", tailText(x.ReplyTrailer))
			}
		}
	}
	if x.OutOfStep != "" {
		fmt.Fprintf(&b, "\n   out of step: %s", x.OutOfStep)
	} else if !x.Complete {
		b.WriteString(" (incomplete)")
	}
	b.WriteByte('\n')
	return b.String()
}

func tailText(t *Tail) string {
	if t.ErrorMessage == "" {
		return t.Status
	}
	return t.Status + " " + strconv.Quote(t.ErrorMessage)
}
