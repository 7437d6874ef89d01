module github.com/framerpc/framerpc

go 1.26
