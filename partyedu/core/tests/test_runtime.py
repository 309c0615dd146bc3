"""The production runtime's own pieces, in process: the health check, the gunicorn settings, the
media storage chosen by the environment, and what a web worker does not load at start-up. The
processes themselves run in test_multiprocess.py."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[3]
PROD_KEYS = {
    "SECRET_KEY": "runtime-test-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "FIELD_ENCRYPTION_KEY": "u7V0vZc3mJ5b9aWk6nL8Qo2rS4tX1yZ0aB3cD5eF7gI=",
}


def python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (settings are read once per process)."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "DJANGO_", "WEB_", "GUNICORN_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# --- health -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_answers_anonymous_callers_without_details(client: Any) -> None:
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": True}
    assert "no-cache" in response["Cache-Control"]
    assert client.head(reverse("health")).status_code == 200


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_unreachable(client: Any, monkeypatch: Any) -> None:
    from partyedu.core import health

    monkeypatch.setattr(health, "_database", lambda: False)

    response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": False}


# --- gunicorn --------------------------------------------------------------------------------------------


def gunicorn_settings(monkeypatch: Any, **env: str) -> dict[str, Any]:
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND", "PORT", "HOST", "GUNICORN_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))


def test_gunicorn_sizes_workers_from_the_cpus_unless_told(monkeypatch: Any) -> None:
    cores = len(os.sched_getaffinity(0))

    assert gunicorn_settings(monkeypatch)["workers"] == min(2 * cores + 1, 9)
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_gunicorn_defaults(monkeypatch: Any) -> None:
    conf = gunicorn_settings(monkeypatch, PORT="8123")

    assert conf["bind"] == "127.0.0.1:8123"
    assert (conf["worker_class"], conf["threads"], conf["preload_app"]) == ("sync", 1, True)
    assert conf["timeout"] > conf["graceful_timeout"] > 0
    # Two instances on one machine must not fight over a control socket.
    assert conf["control_socket_disable"] is True
    # The access log names the path, never the query string (a search may carry a 身份证号).
    assert "%(U)s" in conf["access_log_format"] and "%(r)s" not in conf["access_log_format"]
    threaded = gunicorn_settings(monkeypatch, GUNICORN_THREADS="4", GUNICORN_PRELOAD="0")
    assert (threaded["worker_class"], threaded["preload_app"]) == ("gthread", False)


def test_threaded_gunicorn_workers_get_a_pool_of_threads_plus_one(monkeypatch: Any) -> None:
    monkeypatch.delenv("DB_POOL_MAX_SIZE", raising=False)

    assert gunicorn_settings(monkeypatch)["raw_env"] == []
    assert gunicorn_settings(monkeypatch, GUNICORN_THREADS="4")["raw_env"] == ["DB_POOL_MAX_SIZE=5"]
    assert gunicorn_settings(monkeypatch, GUNICORN_THREADS="4", DB_POOL_MAX_SIZE="8")["raw_env"] == []


# --- media storage -------------------------------------------------------------------------------------

STORAGE_PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'default': settings.STORAGES['default'], 'static': settings.STORAGES['staticfiles'], "
    "'root': str(settings.MEDIA_ROOT)}))"
)


def test_production_media_is_a_shared_directory_by_default(tmp_path: Path) -> None:
    out = json.loads(
        python(
            STORAGE_PROBE,
            DJANGO_SETTINGS_MODULE="config.settings.prod",
            MEDIA_ROOT=str(tmp_path / "media"),
            **PROD_KEYS,
        )
    )

    assert out["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert out["root"] == str(tmp_path / "media")
    assert out["static"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_media_goes_to_s3_when_a_bucket_is_set() -> None:
    out = json.loads(
        python(
            STORAGE_PROBE,
            DJANGO_SETTINGS_MODULE="config.settings.prod",
            MEDIA_S3_BUCKET="partyedu-media",
            MEDIA_S3_ENDPOINT_URL="http://127.0.0.1:9000",
            MEDIA_S3_ACCESS_KEY="key",
            MEDIA_S3_SECRET_KEY="secret",
            MEDIA_S3_REGION="cn-north-1",
            **PROD_KEYS,
        )
    )

    assert out["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = out["default"]["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "partyedu-media",
        "http://127.0.0.1:9000",
        "cn-north-1",
    )
    assert (options["access_key"], options["secret_key"], options["addressing_style"]) == (
        "key",
        "secret",
        "path",
    )
    assert options["file_overwrite"] is False


# --- start-up footprint --------------------------------------------------------------------------------


def test_a_web_worker_loads_pypinyin_only_when_it_writes_a_name() -> None:
    # pypinyin's dictionaries are about 57 MB per process; only writing names needs them.
    out = python(
        "import sys, django; django.setup(); from django.urls import get_resolver; "
        "get_resolver().url_patterns; print('pypinyin' in sys.modules); "
        "from partyedu.core.pinyin import initials; print(initials('张三'), 'pypinyin' in sys.modules)",
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )

    assert out.split("\n")[:2] == ["False", " zs True"]
