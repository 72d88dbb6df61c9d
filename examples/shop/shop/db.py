"""Database access: open the SQLite database named by $DATABASE_URL.

Accepted URLs:
    sqlite:///var/shop.db     -> var/shop.db, relative to the current directory
    sqlite:////abs/path.db    -> /abs/path.db
"""

import os
import sqlite3

PREFIX = "sqlite:///"


class ConfigError(RuntimeError):
    """The database configuration in the environment is missing or invalid."""


def database_path(url=None):
    """Return the filesystem path of the SQLite database for `url` (default: $DATABASE_URL)."""
    if url is None:
        url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        raise ConfigError(
            "DATABASE_URL is not set (expected e.g. DATABASE_URL=sqlite:///var/shop.db)"
        )
    if not url.startswith(PREFIX) or len(url) == len(PREFIX):
        raise ConfigError(
            f"unsupported DATABASE_URL {url!r}: expected sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    # "sqlite:///var/shop.db" -> "var/shop.db"; "sqlite:////abs/x.db" -> "/abs/x.db"
    return url[len(PREFIX):]


def connect(url=None):
    """Open a connection; rows can be read by column name (row["email"])."""
    path = database_path(url)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn
