//go:build !linux

package frame

import "io"

// Without splice(2), payloads always pass through user space.

type kstage struct{}

func (m *MessageWriter) spliceFrom(io.Reader) (int64, spliceStatus, error) {
	return 0, spliceNever, nil
}

func (w *Writer) closeKStage() {}

func (r *Reader) spliceTo(io.Writer, int64) (int64, bool, error) { return 0, true, nil }

func (r *Reader) closeKStage() {}
