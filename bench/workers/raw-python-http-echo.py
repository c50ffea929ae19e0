"""The raw baseline for the Python kit's http/ws rows (bench/cases/python-net.ts): the same
standard-library server (ThreadingHTTPServer, HTTP/1.1 keep-alive, no Nagle) and the same
WebSocket code (kits/python/polyplug_ws.py), echoing bytes back: no JSON-RPC, no dispatcher,
no token. Announces itself like a plugin: POLYPLUG_LISTEN http://127.0.0.1:PORT."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kits", "python"))
from polyplug_ws import Closed, WebSocket, accept_key  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_key(self.headers["Sec-WebSocket-Key"]))
        self.end_headers()
        self.close_connection = True
        ws = WebSocket(self.rfile, self.connection, 64 << 20)
        try:
            while True:
                message = ws.receive_message()
                if message is None:
                    break
                binary, data = message
                if binary:
                    ws.send_binary(data)
                else:
                    ws.send_text(data)
        except Closed:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


server = Server(("127.0.0.1", 0), Handler)
print("POLYPLUG_LISTEN http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
