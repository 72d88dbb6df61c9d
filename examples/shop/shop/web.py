"""Minimal web process: serves the order list as JSON on GET /orders.

Run with `python -m shop.web`; listens on $PORT (default 8000).
"""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from shop import db


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/orders":
            conn = db.connect()
            try:
                rows = conn.execute(
                    "SELECT id, customer_id, total_cents, status, created_at"
                    " FROM orders ORDER BY id"
                ).fetchall()
            finally:
                conn.close()
            self.send_json(200, [dict(row) for row in rows])
        elif self.path == "/":
            self.send_json(200, {"name": os.environ.get("SHOP_NAME", "shop")})
        else:
            self.send_json(404, {"error": "not found"})

    def send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(os.environ.get("PORT", "8000"))
    server = HTTPServer(("", port), Handler)
    print(f"listening on http://0.0.0.0:{port}/orders", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
