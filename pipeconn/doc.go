// Package pipeconn makes framerpc connections out of pipes: a process's own
// standard input and output (a server started as "prog serve --stdio", by
// ssh or by a client), and a child process's (a client that runs
// "ssh host prog serve --stdio" or the server binary itself). Each is an
// io.ReadWriteCloser to hand to rpc.Server.Serve, rpc.NewClient or an
// rpc.Pool's dial function.
//
// The protocol needs only a reliable byte stream in each direction
// (spec/PROTOCOL.md, section 2); a pair of pipes is one. Closing either
// end of the pair is the hang-up [RPC-29]: the peer reads the end of the
// stream.
//
// Neither is a net.Conn, so an rpc.Client on one cannot interrupt a
// blocked read with a deadline: cancelling a call closes the connection
// (for a child, Close waits up to its grace for the child to exit), and
// ClientOptions.IOTimeout and the server's timeouts do not apply. ssh's
// own keepalives (ServerAliveInterval) are what notices a dead peer
// across hosts.
//
// # SIGPIPE
//
// A Go program writing to a pipe whose reader is gone is killed by
// SIGPIPE when the pipe is its file descriptor 1 or 2, and gets EPIPE on
// any other descriptor (see os/signal). Stdio therefore writes to a
// duplicate of descriptor 1 and points descriptor 1 at standard error: a
// server whose client vanished gets an error from its write and ends
// cleanly, without any change to the process's signal handling, and a
// stray print to os.Stdout can no longer corrupt the stream. Child
// connections write to pipes of their own and get EPIPE likewise.
package pipeconn
