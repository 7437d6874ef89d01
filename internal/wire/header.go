package wire

// Header is the JSON object of a Header message (section 6) and, with only
// Error and ErrorMessage used, of a Trailer message (section 9).
type Header struct {
	Endpoint     string
	DataType     DataType
	Accept       DataType
	Error        Status
	ErrorMessage string
	// Extensions is sent only in a hello request and its reply [RPC-25].
	// HasExtensions tells an absent member from an empty list.
	Extensions    []string
	HasExtensions bool
	// Timeout is the time left to the caller, in milliseconds, sent in a
	// request header on a connection that granted the "deadline"
	// extension [RPC-44]. HasTimeout tells an absent member from 0.
	Timeout    uint32
	HasTimeout bool
	// Unknown lists the members with names the protocol does not know, in
	// the order received: receivers ignore them [RPC-6], tools show them.
	Unknown []Member
}

// Member is a member of a header object that the protocol does not know.
type Member struct {
	Name string
	// Value is the member's JSON value as received, without the
	// whitespace around it.
	Value string
}
