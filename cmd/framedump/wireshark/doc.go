// Package wireshark holds framerpc.lua, a Wireshark and tshark 4.x
// dissector for the framerpc protocol (spec/PROTOCOL.md sections 3 to 6
// and 9.1), and its tests. There is no Go code to use here: the tests run
// tshark with the dissector on real and synthesised captures and compare
// what it shows with the bytes that were sent.
package wireshark
