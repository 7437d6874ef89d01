// Package tap is framedump's recording proxy: it relays a connection's two
// directions unchanged and writes what each side sent to a capture file,
// PREFIX.client.bin and PREFIX.server.bin, the pair framedump's
// conversation view reads.
//
// The relay forwards every byte as soon as it is read and records it after
// forwarding, so the tap adds nothing to the connection but the copy. The
// end of one side's stream is passed on to the other as a half-close (the
// way a framerpc client's hang-up reaches the server, which then closes
// [RPC-29]); the session ends when the server's side ends (or either side
// fails), and the tap then closes the client's side too.
//
// With a live view, each direction is also fed to framedump's conversation
// decoder through a buffer the relay never waits on: a decoder that falls
// behind by more than LiveBacklog bytes is cut off with a read error line,
// never the connection.
package tap
