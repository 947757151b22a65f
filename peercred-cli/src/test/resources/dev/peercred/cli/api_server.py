"""An HTTP/1.1 API on a Unix socket shaped like the Docker Engine's, the backend of the HTTP
guard's tests. Every request it receives is appended to LOG as one line: METHOD TARGET BODY-BYTES.

Usage: api_server.py SOCKET LOG

  any request                 200 {"path": TARGET} (keep-alive)
  POST /containers/ID/attach  with Upgrade: tcp, 101 UPGRADED, then echoes raw bytes until EOF
"""
import http.server
import json
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def handle_any(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
        else:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
        with open(self.server.log, "a") as log:
            log.write("%s %s %d\n" % (self.command, self.path, len(body)))
        if self.path.split("?")[0].endswith("/attach") and self.headers.get("Upgrade"):
            self.send_response(101, "UPGRADED")
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "tcp")
            self.end_headers()
            self.wfile.flush()
            while True:
                data = self.connection.recv(65536)
                if not data:
                    break
                self.connection.sendall(data)
            self.close_connection = True
            return
        reply = json.dumps({"path": self.path, "body": len(body)}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    server = Server(sys.argv[1], Handler)
    server.log = sys.argv[2]
    print("listening", file=sys.stderr, flush=True)
    server.serve_forever()
