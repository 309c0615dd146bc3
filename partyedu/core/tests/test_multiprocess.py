"""Scale out without code changes: real processes, as deployed (docs/deployment.md).

* Two application servers (``bin/serve`` with only the web process, each its own gunicorn on its
  own port) share one PostgreSQL database, Redis (cache, sessions, broker) and an S3 bucket (a
  moto server); one Celery worker runs the jobs. One person's flow takes turns between the two
  servers — sign-in, attendance, QR check-in, a member export job polled and downloaded — as a
  load balancer without sticky sessions would send it.
* ``bin/serve`` itself (what ``make serve`` runs): setup, then gunicorn, worker and beat together;
  health answers, a job is run by the worker, and Ctrl-C stops all three.

Everything listens on 127.0.0.1. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 6379 (``make
test-multiprocess`` starts them if it can); without them the tests are skipped, or fail under
CI=true. The database is created for the run and dropped after it; Redis database 5 by default
(MULTIPROCESS_REDIS_URL) is emptied before and after.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone
from openpyxl import load_workbook

pytestmark = pytest.mark.multiprocess

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
PG_SERVER = os.environ.get("MULTIPROCESS_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("MULTIPROCESS_REDIS_URL", "redis://127.0.0.1:6379/5")
HOST = "partyedu.test"  # the site's name behind the (imagined) proxy; both servers answer to it
PASSWORD = "Demo@2026"
FIELD_KEY = "u7V0vZc3mJ5b9aWk6nL8Qo2rS4tX1yZ0aB3cD5eF7gI="
# Below the size of branch_sec's branch in the seeded city: its export must go to the worker.
EXPORT_SYNC_MAX_ROWS = 10


# --- plumbing -------------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"multi-process tests must run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str, settings: str = "config.settings.prod") -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return result.stdout


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """One user agent talking to several servers that stand behind one name, as a load
    balancer without sticky sessions would route it: the cookies it holds (Secure ones too: the
    proxy in front terminates TLS) and the headers such a proxy adds go to whichever server."""

    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def request(
        self,
        port: int,
        method: str,
        path: str,
        *,
        form: dict[str, Any] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "10.0.0.7",
            "User-Agent": "multiprocess-test",
            **(headers or {}),
        }
        body: bytes | None = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        elif self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and not self.token:
            sent.setdefault("Origin", f"https://{HOST}")
            sent.setdefault("Referer", f"https://{HOST}{path}")
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(answer.status, answer.headers, answer.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, port: int, path: str, **kwargs: Any) -> Response:
        return self.request(port, "GET", path, **kwargs)

    def post(self, port: int, path: str, **kwargs: Any) -> Response:
        return self.request(port, "POST", path, **kwargs)


def wait_until(check: Any, *, timeout: float, what: str, logs: Processes | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (OSError, http.client.HTTPException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{logs.tails() if logs else ''}", pytrace=False)
        time.sleep(0.2)


class Processes:
    """Processes started for one test; all stopped (TERM, then KILL) at its end. Their output
    goes to files, shown when a test fails."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.left_behind: list[int] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        # A group of its own: a test that fails half-way kills bin/serve's children with it.
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def tails(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)[-4000:]}" for name in self.running)

    def alive(self) -> None:
        dead = {name: p.returncode for name, p in self.running.items() if p.poll() is not None}
        assert not dead, f"processes exited: {dead}\n{self.tails()}"

    def stop(self, sig: int = signal.SIGTERM, *, group: bool = False, timeout: float = 40) -> dict[str, int]:
        """Signal each process (``group``: its whole process group, as a terminal's Ctrl-C does)
        and wait for it; what is still there after ``timeout`` is killed with its group."""
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, sig) if group else process.send_signal(sig)
        codes = {}
        for name, process in self.running.items():
            try:
                codes[name] = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                codes[name] = -9
        self.left_behind = self.kill_leftovers()
        return codes

    def kill_leftovers(self) -> list[int]:
        """Kill and name any process left in the groups (children bin/serve failed to stop)."""
        left = []
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
                left.append(process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        return left


@dataclass
class Deployment:
    env: dict[str, str]
    var_dir: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A database of our own, migrated and seeded with the small demo city; the static files
    collected; Redis emptied. Shared by the tests of this module."""
    server = urlsplit(PG_SERVER)
    if not _answers(server.hostname or "127.0.0.1", server.port or 5432):
        _unavailable(f"PostgreSQL is not answering at {PG_SERVER}")
    redis_address = urlsplit(REDIS_URL)
    if not _answers(redis_address.hostname or "127.0.0.1", redis_address.port or 6379):
        _unavailable(f"Redis is not answering at {REDIS_URL}")
    import psycopg

    name = f"partyedu_mp_{os.getpid()}"
    admin_url = f"{PG_SERVER}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    redis_flush()
    var_dir = tmp_path_factory.mktemp("var")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            (
                "DJANGO_",
                "DATABASE_",
                "REDIS_",
                "MEDIA_",
                "PYTEST",
                "JOB",
                "CELERY_",
                "GUNICORN_",
                "SERVE_",
                "AWS_",
            )
        )
        and key not in ("PORT", "HOST", "PARTYEDU_VAR_DIR", "WEB_CONCURRENCY", "SECURE_SSL_REDIRECT")
    }
    env.update(
        DATABASE_URL=f"{PG_SERVER}/{name}",
        REDIS_URL=REDIS_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=FIELD_KEY,
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        TRUSTED_PROXY_COUNT="1",
        PARTYEDU_VAR_DIR=str(var_dir),
        EXPORT_SYNC_MAX_ROWS=str(EXPORT_SYNC_MAX_ROWS),
        DB_POOL_MAX_SIZE="2",
        WEB_CONCURRENCY="1",
        CELERY_CONCURRENCY="1",
        # The S3 client must never look for credentials or regions anywhere but here.
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONUNBUFFERED="1",
    )
    try:
        manage(env, "migrate", "--noinput", "-v0")
        # Seeding is refused by production settings; the embedded settings seed the same database
        # with the same keys.
        manage(env, "seed_demo", "--members", "200", "--seed", "1", settings="config.settings.dev")
        manage(env, "collectstatic", "--noinput", "-v0")
        yield Deployment(env, var_dir)
    finally:
        redis_flush()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.kill_leftovers()


def serve(processes: Processes, name: str, env: dict[str, str], **extra: str) -> None:
    processes.start(name, ["bash", "bin/serve"], {**env, **extra})


def healthy(client: Client, port: int) -> bool:
    response = client.get(port, "/healthz/")
    return response.status == 200 and response.json() == {"ok": True, "database": True, "cache": True}


# --- the user's steps -----------------------------------------------------------------------------


def web_sign_in(client: Client, form_from: int, post_to: int, username: str) -> None:
    page = client.get(form_from, "/accounts/login/")
    assert page.status == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, page.text[:500]
    answer = client.post(
        post_to,
        "/accounts/login/",
        form={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1)},
    )
    assert answer.status == 302, answer.text[:2000]
    assert "sessionid" in client.cookies


def api_sign_in(port: int, username: str) -> Client:
    answer = Client().post(port, "/api/v1/auth/token/", data={"username": username, "password": PASSWORD})
    assert answer.status == 200, answer.text
    return Client(token=answer.json()["token"])


def export_through_job(client: Client, start_on: int, poll_on: int, logs: Processes) -> tuple[str, bytes]:
    """Start the member export on one server, watch its progress page on the other until it is
    done, download the file there. Returns the job id and the file."""
    answer = client.get(start_on, "/members/export/")
    assert answer.status == 302, answer.text[:1000]
    location = answer.headers["Location"]
    job_id = re.fullmatch(r"/jobs/([0-9a-f-]{36})/", location)
    assert job_id, location

    def finished() -> str | None:
        fragment = client.get(poll_on, location, headers={"HX-Request": "true"})
        assert fragment.status == 200
        status = re.search(r'data-job-status="(\w+)"', fragment.text)
        assert status, fragment.text[:1000]
        return status.group(1) if status.group(1) in ("succeeded", "failed") else None

    status = wait_until(finished, timeout=60, what="the export job", logs=logs)
    page = client.get(poll_on, location)
    assert status == "succeeded", page.text
    count = re.search(r"已导出党员(\d+)名", page.text)
    assert count and int(count.group(1)) > EXPORT_SYNC_MAX_ROWS, page.text
    download = client.get(poll_on, f"{location}download/")
    assert download.status == 200
    assert download.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(download.body))["党员信息"].values)
    assert len(rows) - 1 == int(count.group(1))
    return job_id.group(1), download.body


# --- the tests ------------------------------------------------------------------------------------


def test_two_servers_share_one_users_session_jobs_and_files(
    deployment: Deployment, processes: Processes
) -> None:
    from moto.server import ThreadedMotoServer

    # given: an S3 store, two application servers and a worker, all on 127.0.0.1
    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto.start()
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{s3_port}",
            aws_access_key_id="partyedu",
            aws_secret_access_key="partyedu-secret",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket="partyedu-media")
        media_dir = deployment.var_dir / "media-unused"
        env = {
            **deployment.env,
            "MEDIA_ROOT": str(media_dir),
            "MEDIA_S3_BUCKET": "partyedu-media",
            "MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "MEDIA_S3_ACCESS_KEY": "partyedu",
            "MEDIA_S3_SECRET_KEY": "partyedu-secret",
            "MEDIA_S3_REGION": "us-east-1",
            "SERVE_SETUP": "0",
        }
        a, b = free_port(), free_port()
        serve(processes, "web-a", env, SERVE_PROCESSES="web", PORT=str(a))
        serve(processes, "web-b", env, SERVE_PROCESSES="web", PORT=str(b))
        serve(processes, "worker", env, SERVE_PROCESSES="worker")
        probe = Client()
        for port in (a, b):
            wait_until(
                lambda port=port: healthy(probe, port), timeout=60, what=f"server {port}", logs=processes
            )

        # when/then: a web sign-in whose form came from A is accepted by B, and A knows the session
        browser = Client()
        web_sign_in(browser, form_from=a, post_to=b, username="branch_sec")
        home = browser.get(a, "/")
        assert home.status == 200 and 'action="/accounts/logout/"' in home.text

        # API tokens issued by one server work on the other
        secretary = api_sign_in(a, "branch_sec")
        member = api_sign_in(b, "member1")
        assert secretary.get(b, "/api/v1/ping/").json() == {"ok": True, "user": "branch_sec"}

        # an activity recorded on A
        organizations = secretary.get(b, "/api/v1/organizations/").json()["results"]
        branch = min(organizations, key=lambda o: len(o["path"]))
        now = timezone.now()
        created = secretary.post(
            a,
            "/api/v1/activities/",
            data={
                "organization": branch["id"],
                "activity_type": "theme_day",
                "topic": "多进程部署验证主题党日",
                "start": (now - timedelta(minutes=5)).isoformat(),
                "end": (now + timedelta(minutes=55)).isoformat(),
                "place": "党员活动室",
            },
        )
        assert created.status == 201, created.text
        activity = created.json()["id"]

        # the QR code shown by A is accepted by B when the member scans it
        token = secretary.get(a, f"/api/v1/activities/{activity}/checkin-token/").json()["token"]
        checked_in = member.post(b, "/api/v1/checkin/", data={"token": token})
        assert checked_in.status == 200, checked_in.text
        row = checked_in.json()
        assert (row["activity"], row["status"], row["method"]) == (activity, "present", "qr")

        # attendance marked on B, read back on A with the check-in
        sheet = secretary.get(a, f"/api/v1/activities/{activity}/attendance/").json()
        unmarked = [r["member"] for r in sheet["results"] if r["status"] == ""]
        marked = secretary.post(
            b,
            f"/api/v1/activities/{activity}/attendance/",
            data={"records": [{"member": unmarked[0], "status": "leave"}]},
        )
        assert marked.status == 200 and marked.json()["changed"] == 1, marked.text
        statuses = {
            r["member"]: r["status"]
            for r in secretary.get(a, f"/api/v1/activities/{activity}/attendance/").json()["results"]
        }
        assert (statuses[row["member"]], statuses[unmarked[0]]) == ("present", "leave")

        # an export started on A runs in the worker, is watched and downloaded on B ...
        job_id, content = export_through_job(browser, start_on=a, poll_on=b, logs=processes)
        assert re.search(r"run_job_task\[[0-9a-f-]+\] succeeded", processes.log("worker"))
        # ... and its file lives in the bucket, not on a disk
        objects = s3.list_objects_v2(Bucket="partyedu-media", Prefix=f"jobs/{job_id}/")["Contents"]
        assert len(objects) == 1 and objects[0]["Key"].endswith(".xlsx")
        assert s3.get_object(Bucket="partyedu-media", Key=objects[0]["Key"])["Body"].read() == content
        assert not (media_dir / "jobs").exists()
        # and A serves the same file
        assert browser.get(a, f"/jobs/{job_id}/download/").body == content

        processes.alive()
    finally:
        codes = processes.stop()
        moto.stop()
    assert codes == {"web-a": 143, "web-b": 143, "worker": 143}, processes.tails()
    assert processes.left_behind == [], processes.tails()


def test_bin_serve_runs_web_worker_and_beat_until_stopped(
    deployment: Deployment, processes: Processes
) -> None:
    # given: what `make serve` runs, media in a shared directory
    port = free_port()
    media_dir = deployment.var_dir / "media"
    # (the scheduler's every-minute reaping every second, so that it is seen to reach the worker)
    env = {**deployment.env, "PORT": str(port), "MEDIA_ROOT": str(media_dir), "JOB_REAP_SECONDS": "1"}
    serve(processes, "serve", env)
    probe = Client()
    wait_until(lambda: healthy(probe, port), timeout=90, what="bin/serve", logs=processes)

    # then: it answers, static files included, and its scheduler reaches the worker
    client = api_sign_in(port, "branch_sec")
    assert client.get(port, "/api/v1/ping/").json() == {"ok": True, "user": "branch_sec"}
    login = probe.get(port, "/accounts/login/")
    script = re.search(r'src="(/static/vendor/htmx/htmx\.min\.[0-9a-f]+\.js)"', login.text)
    assert script, "static files are not the hashed, collected ones"
    assert probe.get(port, script.group(1)).status == 200
    reaped = re.compile(r"reap_jobs_task\[[0-9a-f-]+\] succeeded")
    wait_until(lambda: reaped.search(processes.log("serve")), timeout=30, what="beat", logs=processes)

    # when: a job is started; then the worker runs it and its file is in the shared directory
    browser = Client()
    web_sign_in(browser, form_from=port, post_to=port, username="branch_sec")
    job_id, content = export_through_job(browser, start_on=port, poll_on=port, logs=processes)
    files = list((media_dir / "jobs" / job_id).iterdir())
    assert [f.read_bytes() for f in files] == [content]

    # when: Ctrl-C; then all three stop, gracefully and quickly, and nothing is left behind
    log = processes.log("serve")
    children = [int(pid) for pid in re.findall(r"\[serve\] \w+ started \(pid (\d+)\)", log)]
    assert len(children) == 3, log
    started = time.monotonic()
    codes = processes.stop(signal.SIGINT, group=True)
    # 130 when bin/serve acts on the signal itself; 0 when gunicorn, which got it too, stopped
    # first and cleanly (bash then leaves the interrupt to its children).
    assert codes["serve"] in (0, 130), processes.tails()
    assert time.monotonic() - started < 20
    assert "did not stop in time" not in processes.log("serve"), processes.tails()
    assert processes.left_behind == [], processes.tails()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} outlived bin/serve"
