#!/bin/sh
# streamcopy over each transport, as in README.md: run from the repository
# root with `sh examples/streamcopy/demo.sh`. Everything happens in a
# temporary directory, on loopback; CI runs it.
set -eu
d=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null || true; wait; rm -rf "$d"' EXIT
go build -o "$d/streamcopy" ./examples/streamcopy
sc="$d/streamcopy"
mkdir -p "$d/served/logs" "$d/here"
head -c 5000000 /dev/urandom > "$d/served/stream.bin"
echo hello > "$d/served/logs/hello.txt"

# wait_for FILE: until the server has said where it listens.
wait_for() { i=0; until grep -q serving "$1" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { cat "$1"; exit 1; }; sleep 0.1; done; }

echo "== TCP"
"$sc" serve -dir "$d/served" -listen tcp:127.0.0.1:7700 2>"$d/tcp.log" &
pids="$pids $!"
wait_for "$d/tcp.log"
"$sc" list -connect tcp:127.0.0.1:7700
"$sc" pull -connect tcp:127.0.0.1:7700 stream.bin "$d/here/"
"$sc" push -connect tcp:127.0.0.1:7700 "$d/here/stream.bin" copies/
cmp "$d/served/stream.bin" "$d/served/copies/stream.bin"

echo "== unix socket"
"$sc" serve -dir "$d/served" -listen "unix:$d/sock" 2>"$d/unix.log" &
pids="$pids $!"
wait_for "$d/unix.log"
"$sc" pull -connect "unix:$d/sock" . "$d/here/tree"
ls -R "$d/here/tree"

echo "== TLS, both sides authenticated"
"$sc" certs -out "$d/certs"
c="$d/certs"
"$sc" serve -dir "$d/served" -listen tcp:127.0.0.1:7701 -tls "$c/server.pem,$c/server.key,$c/ca.pem" 2>"$d/tls.log" &
pids="$pids $!"
wait_for "$d/tls.log"
"$sc" list -connect localhost:7701 -tls "$c/client.pem,$c/client.key,$c/ca.pem" logs

echo "== stdio: the client runs the server, as over ssh"
"$sc" list -e "$sc serve --stdio -dir $d/served"
"$sc" pull -e "$sc serve --stdio -dir $d/served" -capture "$d/cap" logs/hello.txt "$d/here/"
go run ./cmd/framedump "$d/cap"
