// Package conform checks a live framerpc implementation, in any language,
// against the conversation and message vectors of testvectors/: it is the
// runner behind `conform server` and `conform client` (spec/PROTOCOL.md
// sections 3 to 10; testvectors/README.md, "Checking a live implementation").
//
// Server role. For each conversation vector a server can be checked with
// (replay "both" or "server"), the runner plays the client: it sends the
// vector's client bytes one turn at a time (a request, or the hang-up),
// reads the reply the vector gives by following the server's own frame
// headers, and at the end waits for the server to close. What the server
// sent must be the vector's server bytes, byte for byte, except the
// ErrorMessage of a reply header the vector marks anyErrorMessage, which is
// compared by meaning: every other member equal, the text encoded as
// [RPC-1] says. Message vectors that break inside the first request of a
// connection are sent too: the server must answer nothing but at most one
// RST, and close. So is every header vector, as the README's header
// fixture says: an invalid header must be answered with an RST and the end
// of the connection, any other with the vector's status, after which a
// Ping must still be answered OK.
//
// Client role. For each conversation vector a client can be checked with
// (replay "both" or "client"), the runner listens, starts the client's
// driver, tells it over the driver protocol (package script) to connect and
// make the vector's calls, and plays the server turn by turn: it reads a
// request, then sends the vector's reply. Each call's outcome must be the
// vector's result and the client's bytes its client bytes.
//
// Every wait is bounded: an implementation that hangs fails the vector,
// it does not hang the runner.
package conform
