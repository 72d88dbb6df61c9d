"""Management commands for the example shop.

    python manage.py migrate   apply pending schema migrations (idempotent)
    python manage.py check     print counts of bad records as JSON

Must run inside the app's virtualenv (.venv); exits 3 otherwise.
"""

import json
import sys

# The admin process must use the app's own virtualenv, like the web process.
if sys.prefix == sys.base_prefix:
    print(
        "manage.py: not running inside a virtualenv "
        f"(python is {sys.executable}); create one with `python3 -m venv .venv` "
        "and use .venv/bin/python",
        file=sys.stderr,
    )
    sys.exit(3)

from shop import db  # noqa: E402

VALID_STATUSES = ("pending", "paid", "shipped", "cancelled")
VALID_SQL = "(" + ", ".join(f"'{s}'" for s in VALID_STATUSES) + ")"

# Each migration is (name, list of SQL statements); applied once, in order.
MIGRATIONS = [
    (
        "0001_create_customers_and_orders",
        [
            """CREATE TABLE IF NOT EXISTS customers (
                   id    INTEGER PRIMARY KEY,
                   email TEXT NOT NULL,
                   name  TEXT NOT NULL
               )""",
            """CREATE TABLE IF NOT EXISTS orders (
                   id          INTEGER PRIMARY KEY,
                   customer_id INTEGER NOT NULL REFERENCES customers(id),
                   total_cents INTEGER NOT NULL,
                   status      TEXT NOT NULL DEFAULT 'pending',
                   created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
               )""",
        ],
    ),
    (
        # Sample data, including some deliberately bad records for
        # scripts/fix_records.rhai to repair.
        "0002_seed_sample_data",
        [
            """INSERT INTO customers (id, email, name) VALUES
                   (1, 'alice@example.com',    'Alice'),
                   (2, '  Bob@Example.COM ',   'Bob'),
                   (3, 'CAROL@example.com',    'Carol'),
                   (4, ' dave@example.com',    'Dave')""",
            """INSERT INTO orders (id, customer_id, total_cents, status, created_at) VALUES
                   (1, 1,  1999, 'paid',      '2024-01-05 10:00:00'),
                   (2, 1,  -500, 'pending',   '2024-01-06 11:30:00'),
                   (3, 2,  4250, 'PAID ',     '2024-01-07 09:15:00'),
                   (4, 3, -1200, 'shipped',   '2024-01-08 16:45:00'),
                   (5, 4,   899, 'on hold',   '2024-01-09 08:00:00'),
                   (6, 2,   300, 'cancelled', '2024-01-10 12:00:00')""",
        ],
    ),
    (
        # Filled by scripts/maintenance_window.rhai, a batch at a time.
        "0003_add_customers_email_lower",
        ["ALTER TABLE customers ADD COLUMN email_lower TEXT"],
    ),
]


def migrate(conn):
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name       TEXT PRIMARY KEY,
               applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
           )"""
    )
    applied = {row["name"] for row in conn.execute("SELECT name FROM schema_migrations")}
    pending = [(name, stmts) for name, stmts in MIGRATIONS if name not in applied]
    if not pending:
        print("no migrations to apply")
        return
    for name, statements in pending:
        conn.execute("BEGIN")
        try:
            for sql in statements:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        print(f"applied {name}")


def check(conn):
    counts = {
        "bad_emails": "SELECT count(*) FROM customers WHERE email <> lower(trim(email))",
        "negative_totals": "SELECT count(*) FROM orders WHERE total_cents < 0",
        "bad_status": f"SELECT count(*) FROM orders WHERE status NOT IN {VALID_SQL}",
    }
    print(json.dumps({key: conn.execute(sql).fetchone()[0] for key, sql in counts.items()}))


COMMANDS = {"migrate": migrate, "check": check}


def main(argv):
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(f"usage: python manage.py {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    try:
        conn = db.connect()
    except db.ConfigError as err:
        print(f"manage.py: {err}", file=sys.stderr)
        return 2
    conn.isolation_level = None  # autocommit; migrate manages its own transactions
    try:
        COMMANDS[argv[0]](conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
