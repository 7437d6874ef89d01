package wire

import "fmt"

// DataType says what body follows a header (section 6).
type DataType uint32

// The body kinds. DataMultipart exists only on a connection that negotiated
// the "multipart" extension (section 9).
const (
	DataNone      DataType = 1
	DataJSON      DataType = 2
	DataOctets    DataType = 3
	DataMultipart DataType = 4
)

func (d DataType) String() string {
	switch d {
	case DataNone:
		return "None"
	case DataJSON:
		return "JSON"
	case DataOctets:
		return "Octets"
	case DataMultipart:
		return "JSON+Octets"
	}
	return fmt.Sprintf("DataType(%d)", uint32(d))
}

// HasJSON tells whether a body of this kind has a JSON part.
func (d DataType) HasJSON() bool { return d == DataJSON || d == DataMultipart }

// HasOctets tells whether a body of this kind has an octets part.
func (d DataType) HasOctets() bool { return d == DataOctets || d == DataMultipart }

// Status is the outcome of a call, carried in a reply header's or a
// trailer's Error member.
type Status uint32

// The statuses, numbered as the original numbered them.
const (
	StatusOK           Status = 1
	StatusRequestError Status = 2
	StatusServerError  Status = 3
	StatusError        Status = 4
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusRequestError:
		return "RequestError"
	case StatusServerError:
		return "ServerError"
	case StatusError:
		return "Error"
	}
	return fmt.Sprintf("Status(%d)", uint32(s))
}

// Valid tells whether s is one of the four statuses [RPC-10].
func (s Status) Valid() bool { return s >= StatusOK && s <= StatusError }
