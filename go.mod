module github.com/framerpc/framerpc

go 1.26

require pgregory.net/rapid v1.3.0
