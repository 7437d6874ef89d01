package dump

import (
	"bufio"
	"encoding/json"
)

// writeJSON writes ev as one line. HTML escaping is off: the output is
// read by tools and people, and a header's "<" should read as "<".
func writeJSON(w *bufio.Writer, ev Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(ev)
}
