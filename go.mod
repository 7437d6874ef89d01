module github.com/framerpc/framerpc

go 1.26

require (
	github.com/pkg/errors v0.9.1
	pgregory.net/rapid v1.3.0
)
