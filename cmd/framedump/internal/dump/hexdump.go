package dump

// hexLines renders b as lines of 16 bytes: payload offset, hex, ASCII.
func hexLines(b []byte) []string {
	const digits = "0123456789abcdef"
	var lines []string
	for off := 0; off < len(b); off += 16 {
		row := b[off:min(off+16, len(b))]
		line := make([]byte, 0, 80)
		for shift := 28; shift >= 0; shift -= 4 {
			line = append(line, digits[off>>shift&15])
		}
		line = append(line, ' ', ' ')
		for i := range 16 {
			if i < len(row) {
				line = append(line, digits[row[i]>>4], digits[row[i]&15], ' ')
			} else {
				line = append(line, ' ', ' ', ' ')
			}
			if i == 7 {
				line = append(line, ' ')
			}
		}
		line = append(line, ' ', '|')
		for _, c := range row {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			line = append(line, c)
		}
		line = append(line, '|')
		lines = append(lines, string(line))
	}
	return lines
}
