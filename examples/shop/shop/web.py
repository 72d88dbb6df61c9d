"""Minimal web process: serves the order list as JSON on GET /orders.

Run with `python -m shop.web`; listens on $PORT (default 8000). While
public/system/maintenance.html exists (adminsh's std/maintenance writes it), every
request gets that page with 503 Service Unavailable.
"""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from shop import db


MAINTENANCE_PAGE = os.path.join("public", "system", "maintenance.html")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(MAINTENANCE_PAGE):
            with open(MAINTENANCE_PAGE, "rb") as page:
                self.send_body(503, "text/html", page.read())
        elif self.path == "/orders":
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
        self.send_body(status, "application/json", json.dumps(payload).encode())

    def send_body(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
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
