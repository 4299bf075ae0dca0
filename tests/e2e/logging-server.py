#!/usr/bin/python3
"""A TLS endpoint that records what reaches it: tests/e2e/logging-server.py CERT KEY LOG PORTFILE [bomb]

Listens on 127.0.0.1 (a free port, written to PORTFILE), logs every request's method,
path and headers as one JSON line to LOG, and answers like an API server's /version.
With `bomb`, the answer is a gzip body of 1 GiB of zeros (about 1 MB on the wire), as a
hostile server would send. It stops by itself after 120 s. Used to prove what a client
sent, or that it sent nothing.
"""
import http.server
import json
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[3], "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": [[k, v] for k, v in self.headers.items()]}) + "\n")
        body = json.dumps({"major": "1", "minor": "32", "gitVersion": "v1.32.0"}).encode()
        self.send_response(200)
        if BOMB is not None:
            body = BOMB
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


BOMB = None


def main():
    global BOMB
    if len(sys.argv) > 5 and sys.argv[5] == "bomb":
        import gzip
        import io
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
            zeros = bytes(1 << 20)
            for _ in range(1024):
                g.write(zeros)
        BOMB = out.getvalue()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(sys.argv[4] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[4] + ".tmp", sys.argv[4])
    threading.Timer(120, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
