"""Gunicorn settings for every footprint (``make run``, ``make serve``, a production unit file):
``gunicorn -c config/gunicorn.conf.py config.wsgi``. Everything can be changed by environment
variables, so the same file serves a laptop demo and a server (docs/deployment.md lists them).

Workers are processes with one thread each (the classic sync worker): a request that loops in
Python never holds up another, and one process is one PostgreSQL connection pool
(``DB_POOL_MAX_SIZE``) — the sum the database must allow is easy to state. Set
``GUNICORN_THREADS`` above 1 for threaded workers when most time is spent waiting (slow clients
without a buffering proxy in front).

Measured with bench/load.py (100,000 members, PostgreSQL + Redis, 2 cores shared with other
work; sync ×5 against gthread 5×4 and 3×4 in rotated order, 5–6 runs each): threads were not
clearly better, so sync stays the default. gthread gave 20–40 % more members-list requests/s at
64 users, about 20 % less server CPU per list request, and a shorter median wait for an unrelated
request during a 500-member check-in burst (0.14–0.31 s against 0.74 s), but longer tails:
check-in p99 1.4–1.6 s against 1.0 s (the goal is 1 s), the unrelated request's p99 1.1–1.2 s
against 0.9 s, and at 64 users p99 about twice sync's. A gthread process accepts connections
whether or not one of its threads is free and queues them, so a request can wait behind a busy
process while another has a thread free, and a request running Python holds the GIL against its
process's other threads; sync workers take connections one at a time from the shared queue, in
order. What sync gives up: keep-alive (nginx's upstream keepalive is unused, each request is a
new connection) and a wake-up of every idle worker per connection: a millisecond or two at one
user, within this machine's noise. The burst keeps both cores busy either way (13–19 ms of server
CPU per check-in), so no worker model leaves other users unaffected during it.
"""

from __future__ import annotations

import gc
import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _workers() -> int:
    # 2 × cores + 1, the usual rule for sync workers, capped: each worker costs memory (about
    # 33 MB of its own with preload, 81 MB without: docs/deployment.md), and more processes than
    # that rarely help a database-bound application on one machine.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2 * cores + 1, _int("WEB_CONCURRENCY_MAX", 9)))


bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 0) or _workers()
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
# Each thread holds a pooled connection for the rest of its request once it has queried, and a
# demo job (JOBS_BACKEND=thread) runs in one more thread of the process: with fewer connections
# than that, a request waits DB_POOL_TIMEOUT for one and then fails. So threaded workers get a
# pool of threads + 1 unless DB_POOL_MAX_SIZE says otherwise (gunicorn sets raw_env before it
# loads the application, so the settings read it).
raw_env = (
    [f"DB_POOL_MAX_SIZE={threads + 1}"] if threads > 1 and not os.environ.get("DB_POOL_MAX_SIZE") else []
)

# A request that takes longer than this is killed (and logged): synchronous exports are capped by
# EXPORT_SYNC_MAX_ROWS, and anything longer runs as a background job with a progress page.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (a deploy, systemd stopping the service) requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling workers bounds slow leaks; off by default (it also ends the demo's in-process job
# threads). With it on, the jitter keeps workers from restarting together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Import the application once in the master and fork the workers from it: start-up is paid once,
# and the workers share the pages of imported code until they write to them (docs/deployment.md
# has the figures). Nothing opens a database, cache or broker connection at import time, so no
# socket is inherited across the fork. GUNICORN_PRELOAD=0 turns it off (per-worker code reload).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in {"0", "false", "no", "off"}

# The heartbeat files of the workers live in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Gunicorn ≥ 25 opens a control socket under $HOME by default: a second instance on the same
# machine (two ports, a test) would fight over it. Only when asked for.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# Access log on stdout. The path only, never the query string: a member search may carry a full
# 身份证号 (``?q=``), and logs are kept longer and read by more people than the database. The
# client address is the proxy's; the forwarded chain follows it. %(M)s: milliseconds taken.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Gunicorn believes X-Forwarded-Proto (for the WSGI url_scheme) only from these addresses. Django
# reads the header itself (SECURE_PROXY_SSL_HEADER): the application must be reachable only
# through the proxy, which is why it listens on 127.0.0.1 unless told otherwise.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "partyedu-web")


def when_ready(server: Any) -> None:
    if server.cfg.preload_app:
        _warm_up()
    # One line a person can click, once the socket accepts connections.
    host, _, port = str(bind).rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = "127.0.0.1"
    count = server.cfg.workers
    print(f"PartyEdu 已启动：http://{host}:{port}/  （{count} 个工作进程，Ctrl-C 停止）", flush=True)


def _warm_up() -> None:
    # Django imports the views (through the URL configuration) and compiles templates on the first
    # request. Done here in the master, before the fork, every worker shares that memory instead
    # of building its own copy, and no worker's first visitor waits for it.
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    get_template("base.html")
    # pypinyin (about 57 MB) is otherwise loaded by each worker the first time it writes a name
    # (partyedu.core.pinyin): loaded here it is one shared copy instead of one per worker. Only
    # a server that never writes a name (a read-only tier) gains from GUNICORN_PRELOAD_PINYIN=0.
    if os.environ.get("GUNICORN_PRELOAD_PINYIN", "1") != "0":
        import pypinyin.core  # noqa: F401
    # Move everything loaded so far out of the garbage collector's reach: its passes would
    # otherwise write to every object's header in each worker and so copy the shared pages one
    # by one (docs/deployment.md: the difference after a few hundred requests).
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    # Safety net for preload_app: a database connection opened in the master by accident (code
    # that queries at import time) must not be shared by the forked workers.
    if server.cfg.preload_app:
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            connection.close()
