#!/usr/bin/python3
"""Stand-in for the JupyterHub 5.x hub process of the simulated hub pod.

Runs inside the pod sandbox, so it finds the chart files where the real hub does:
the database URL in /usr/local/etc/jupyterhub/{existing-secret,secret}/values.yaml
(hub.db.url) and the password in .../existing-secret/hub.db.password, which it puts
in PGPASSWORD of its own process only, like Z2JH's jupyterhub_config.py.

At start it does what JupyterHub's init_db does on PostgreSQL:
- no JupyterHub table at all: "Stamping empty database with alembic revision HEAD";
- tables but no alembic_version: guess and stamp (as JupyterHub does);
- a revision other than HEAD: fail like JupyterHub (exit 1) unless hub.db.upgrade;
- create the tables that are missing (create_all), then the default roles and the
  "jupyterhub" OAuth client.
Then it serves BASE/hub/health (200) and a minimal BASE/hub/api/ on 127.0.0.1:PORT, BASE
being hub.baseUrl (/nb/ in Nublado); /hub/... answers too.

Locks: the real hub leaves its session "idle in transaction" after serving a request
(it only rolls back dirty sessions), holding ACCESS SHARE locks that make a concurrent
DROP OWNED wait. GET /hub/api/users does the same here, and with
NUBLADO_SIM_HUB_HOLD_LOCKS=1 the stand-in starts in that state.
"""

import argparse
import json
import logging
import os
import re
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, "/usr/local/etc/jupyterhub")

import psycopg2  # noqa: E402  (Debian python3-psycopg2)
import z2jh  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "jupyterhub5.sql")
DEFAULTS = os.path.join(HERE, "jupyterhub5-defaults.sql")
VERSION = "5.4.6"

log = logging.getLogger("JupyterHub")

def schema_blocks(path=SCHEMA):
    """[(table, sql)] in file order, and the alembic head the file stamps."""
    with open(path) as f:
        text = f.read()
    head = re.search(r"^-- head: (\w+)$", text, re.M).group(1)
    parts = re.split(r"^-- table: (\w+)\n", text, flags=re.M)
    blocks = [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts), 2)]
    return blocks, head


def libpq_url(url):
    """SQLAlchemy URL -> libpq URI: drop a +driver suffix from the scheme."""
    return re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", url)


def init_db(conn, upgrade):
    blocks, head = schema_blocks()
    cur = conn.cursor()
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    present = {row[0] for row in cur.fetchall()}
    by_name = dict(blocks)
    mine = set(by_name) - {"alembic_version"}
    if not mine & present:
        if "alembic_version" not in present:
            log.info("Stamping empty database with alembic revision %s", head)
            cur.execute(by_name["alembic_version"])
        present.add("alembic_version")
    elif "alembic_version" not in present:
        guess = "0.8.dev" if "spawners" in present else "0.7.x"
        log.warning("Database schema version not found, guessing that JupyterHub %s created this database.", guess)
        log.info("Stamping database schema version %s", head)
        cur.execute(by_name["alembic_version"])
        present.add("alembic_version")
    cur.execute("SELECT version_num FROM alembic_version")
    row = cur.fetchone()
    found = row[0] if row else None
    if found != head:
        if not upgrade:
            log.critical(
                "Found database schema version %s != %s. Backup your database and run "
                "`jupyterhub upgrade-db` to upgrade to the latest schema.", found, head)
            return False
        log.info("Upgrading database schema from %s to %s", found, head)
        cur.execute("DELETE FROM alembic_version")
        cur.execute("INSERT INTO alembic_version (version_num) VALUES (%s)", (head,))
    for table, sql in blocks:
        if table not in present:
            log.debug("Creating table %s", table)
            cur.execute(sql)
    with open(DEFAULTS) as f:
        cur.execute(f.read())
    cur.close()
    return True


def hold_read_transaction(conn):
    """Read users and leave the transaction open, as the real hub's session does."""
    cur = conn.cursor()
    cur.execute("SELECT users.name, users.admin FROM users LEFT JOIN spawners ON spawners.user_id = users.id"
                " LEFT JOIN user_group_map ON user_group_map.user_id = users.id ORDER BY users.id")
    rows = cur.fetchall()
    cur.close()
    return rows


class Handler(BaseHTTPRequestHandler):
    server_version = "TornadoServer/6.4"
    conn = None  # the hub's database connection (one, like the real hub's session)

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    base_url = "/"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith(self.base_url):
            path = "/" + path[len(self.base_url):]
        if path in ("/hub/health", "/hub/health/"):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path in ("/hub/api", "/hub/api/"):
            self._send(200, {"version": VERSION})
        elif path in ("/hub/api/users", "/hub/api/users/"):
            try:
                users = hold_read_transaction(self.conn)
            except psycopg2.Error as e:
                log.error("database error: %s", str(e).strip())
                self.conn.rollback()
                self._send(500, {"status": 500, "message": "Internal Server Error"})
                return
            self._send(200, [{"kind": "user", "name": name, "admin": admin} for name, admin in users])
        else:
            self._send(404, {"status": 404, "message": "Not Found"})

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.address_string(), fmt % args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ip", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.DEBUG, stream=sys.stderr,
        format="[%(levelname).1s %(asctime)s.%(msecs)03d %(name)s] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("Running JupyterHub version %s (stand-in)", VERSION)

    url = z2jh.get_config("hub.db.url")
    if not url:
        log.critical("hub.db.url is not set in the mounted values")
        return 1
    password = z2jh.get_secret_value("hub.db.password", None)
    if password is not None:
        os.environ["PGPASSWORD"] = password
    log.info("Connecting to db: %s", url)
    try:
        conn = psycopg2.connect(libpq_url(url), connect_timeout=5, application_name="jupyterhub")
        conn.autocommit = True
        if not init_db(conn, bool(z2jh.get_config("hub.db.upgrade", False))):
            return 1
    except psycopg2.Error as e:
        log.critical("Failed to connect to db: %s", url)
        log.critical("%s", str(e).strip())
        return 1
    # Keep the connection, as the real hub keeps its session; from here on use
    # transactions like it does (autocommit was only for the schema set-up).
    conn.autocommit = False
    Handler.conn = conn
    base = (z2jh.get_config("hub.baseUrl", "/") or "/").strip("/")
    Handler.base_url = f"/{base}/" if base else "/"
    if os.environ.get("NUBLADO_SIM_HUB_HOLD_LOCKS") == "1":
        hold_read_transaction(conn)
        log.debug("holding a read transaction open (NUBLADO_SIM_HUB_HOLD_LOCKS=1)")
    server = ThreadingHTTPServer((args.ip, args.port), Handler)
    log.info("Hub API listening on http://%s:%d%shub/", args.ip, args.port, Handler.base_url)
    log.info("JupyterHub is now running, internal Hub API at http://%s:%d%shub/",
             args.ip, args.port, Handler.base_url)
    try:
        server.serve_forever()
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
