package frame

import (
	"io"
	"runtime"
	"testing"
)

// A Writer that has sent a large message keeps no full-frame stage: many
// idle connections that once streamed must not hold 4 MiB each. Measured
// as the heap the Writers retain after a garbage collection, per Writer.
func TestIdleWriterRetainsNoFrameStage(t *testing.T) {
	const writers = 32
	body := make([]byte, MaxPayload+MaxPayload/2)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	ws := make([]*Writer, writers)
	for i := range ws {
		ws[i] = NewWriter(io.Discard)
		m, err := ws[i].NewMessage(TypeData)
		if err != nil {
			t.Fatal(err)
		}
		// A partial frame first, so that the rest is staged.
		if _, err := m.Write(body[:100]); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Write(body[100:]); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ws[i].WriteMessage(TypeHeader, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perWriter := (int64(ms.HeapAlloc) - int64(before)) / writers
	// The free list holds at most 4 full frames (cap(bigStageFree)) for
	// all Writers together; each Writer its small stage (maxKeptStage).
	limit := int64(4*(HeaderSize+MaxPayload))/writers + HeaderSize + 64<<10
	t.Logf("heap retained per idle Writer: %d KiB (limit %d KiB)", perWriter>>10, limit>>10)
	if perWriter > limit {
		t.Fatalf("an idle Writer retains %d bytes, more than %d", perWriter, limit)
	}
	runtime.KeepAlive(ws)
	runtime.KeepAlive(body)
}
