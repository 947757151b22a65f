"""A small HTTP/1.0 server on a Unix socket, the backend of the proxy's end-to-end tests.

Usage: unix_http_server.py SOCKET DIRECTORY

  GET  /hello        "hello\n"
  GET  /file/NAME    the bytes of DIRECTORY/NAME
  GET  /gate         "started\n", then waits until DIRECTORY/gate exists, then "finished\n"
  POST /sha256       the hex SHA-256 of the request body
"""
import hashlib
import http.server
import os
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def reply(self, body, content_type="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        directory = self.server.directory
        if self.path == "/hello":
            self.reply(b"hello\n")
        elif self.path.startswith("/file/"):
            name = os.path.join(directory, os.path.basename(self.path[len("/file/"):]))
            size = os.path.getsize(name)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(name, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
        elif self.path == "/gate":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(b"started\nfinished\n")))
            self.end_headers()
            self.wfile.write(b"started\n")
            self.wfile.flush()
            gate = os.path.join(directory, "gate")
            while not os.path.exists(gate):
                time.sleep(0.02)
            self.wfile.write(b"finished\n")
        else:
            self.send_error(404)

    def do_POST(self):
        if self.path != "/sha256":
            self.send_error(404)
            return
        remaining = int(self.headers.get("Content-Length", "0"))
        digest = hashlib.sha256()
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
        self.reply((digest.hexdigest() + "\n").encode())


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    socket_path, directory = sys.argv[1], sys.argv[2]
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = Server(socket_path, Handler)
    server.directory = directory
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
