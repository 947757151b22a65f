// The echo server of "Using SO_PEERCRED in Go", written the way the Go package peercred started
// from serves: a goroutine per connection on the standard library's net.UnixListener, whose
// descriptors the runtime's netpoller waits on, and the peer's credentials read with
// golang.org/x/sys/unix through SyscallConn.
//
// Listens on os.Args[1]; a peer whose uid differs from the server's reads "Unauthorized access\n"
// and then the end of the stream; every other line comes back with "> " in front. Lines longer
// than 64 KiB end the connection. Built by the benchmark runner, offline, with:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o echo-go echo.go
package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const maxLine = 64 * 1024

var unauthorized = []byte("Unauthorized access\n")

// peerUcred reads SO_PEERCRED from the connection's descriptor without taking it out of the
// netpoller.
func peerUcred(conn *net.UnixConn) (*unix.Ucred, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return nil, err
	}
	return cred, credErr
}

func serve(conn *net.UnixConn, owner uint32) {
	defer conn.Close()
	cred, err := peerUcred(conn)
	if err != nil || cred.Uid != owner {
		conn.Write(unauthorized)
		conn.CloseWrite()
		return
	}
	in := make([]byte, 8192)
	var out []byte
	filled := 0
	for {
		n, err := conn.Read(in[filled:])
		if n > 0 {
			end := filled + n
			start := 0
			out = out[:0]
			for {
				i := bytes.IndexByte(in[start:end], '\n')
				if i < 0 {
					break
				}
				out = append(out, '>', ' ')
				out = append(out, in[start:start+i+1]...)
				start += i + 1
			}
			if len(out) > 0 {
				if _, err := conn.Write(out); err != nil {
					return
				}
			}
			filled = copy(in, in[start:end])
			if filled == len(in) {
				if len(in) > maxLine {
					return
				}
				grown := make([]byte, len(in)*2)
				copy(grown, in)
				in = grown
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s SOCKET\n", os.Args[0])
		os.Exit(2)
	}
	os.Remove(os.Args[1])
	listener, err := net.ListenUnix("unix", &net.UnixAddr{Name: os.Args[1], Net: "unix"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	owner := uint32(os.Getuid())
	for {
		conn, err := listener.AcceptUnix()
		if err != nil {
			// At the descriptor limit, say so and pause instead of spinning.
			fmt.Fprintln(os.Stderr, "accept:", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(conn, owner)
	}
}
