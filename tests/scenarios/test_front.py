"""The production front as the README deploys it: nginx with deploy/nginx/ita-bot.conf before gunicorn (the Procfile's
web line) on 127.0.0.1. A hundred slow and idle clients must not keep LINE's signed webhook from being answered."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import GROUP, ROOT, STAFF_SP, write_config
from tests.processes import stop_process

SITE = ROOT / "deploy" / "nginx" / "ita-bot.conf"
GUNICORN = Path(sys.executable).with_name("gunicorn")
ATTACKER = "127.0.0.2"  # loopback too, but another client address than LINE's (the test's 127.0.0.1)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile_web() -> list[str]:
    """The Procfile's web command, with python and gunicorn taken from this environment."""
    line = next(ln for ln in (ROOT / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:"))
    tools = {"python": sys.executable, "gunicorn": str(GUNICORN)}
    return [tools.get(argv[0], argv[0]), *argv[1:]]


def substitute(text: str, old: str, new: str) -> str:
    """One of the README's edits to the site file; the text must be there (the file's shape is part of the test)."""
    assert old in text, f"deploy/nginx/ita-bot.conf no longer contains {old!r}"
    return text.replace(old, new)


def site_for_test(http_port: int, https_port: int, gunicorn_port: int, tls: Path) -> str:
    """The site file with the README's edits (host, certificate, PORT), listening on loopback test ports."""
    text = SITE.read_text()
    text = substitute(text, "/etc/letsencrypt/live/ita.example.go.th/", f"{tls}/")
    text = substitute(text, "ita.example.go.th", "localhost")
    text = substitute(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{gunicorn_port};")
    # Ports 80 and 443 need root and may be taken: the same servers on free loopback ports instead.
    text = re.sub(r"^\s*listen \[::\]:\d+.*$", "", text, flags=re.M)
    text = substitute(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    return substitute(text, "listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")


def main_config(prefix: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf provides around a site, pointed at temp folders."""
    user = "user root root;" if os.geteuid() == 0 else ""  # as root, workers would otherwise become nobody
    temps = "\n".join(f"    {kind}_temp_path {prefix}/{kind}_temp;" for kind in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 768; }}
http {{
    access_log {prefix}/access.log;
{temps}
    include {site};
}}
"""


@dataclass
class Deployment:
    url_port: int
    http_port: int
    gunicorn_port: int
    gunicorn_log: Path
    nginx_log: Path


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return ctx


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 1.0) -> tuple[int, bytes]:
    """One HTTPS request through the front from 127.0.0.1; raises if it is not answered within ``timeout``."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context())
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()




@pytest.fixture
def deployment(tmp_path: Path, standin: Any) -> Iterator[Deployment]:
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian package nginx-light): the production front cannot be started")
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the front's TLS server")
    tls, prefix = tmp_path / "tls", tmp_path / "nginx"
    for folder in (tls, prefix):
        folder.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    gunicorn_port, http_port, https_port = free_port(), free_port(), free_port()
    site = prefix / "ita-bot.conf"
    site.write_text(site_for_test(http_port, https_port, gunicorn_port, tls))
    (prefix / "nginx.conf").write_text(main_config(prefix, site))

    env = {**os.environ, "ITA_BOT_CONFIG": str(write_config(tmp_path, {})),
           "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
           "LINE_DATA_API_ENDPOINT": standin.url, "PORT": str(gunicorn_port), "PYTHONUNBUFFERED": "1"}
    for key in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        env.pop(key, None)  # the documented defaults: 2 workers × 4 threads
    gunicorn_log = tmp_path / "gunicorn.log"
    with open(gunicorn_log, "wb") as out:
        web = subprocess.Popen(procfile_web(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    with open(prefix / "stderr.log", "wb") as out:
        front = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                                 stdout=out, stderr=subprocess.STDOUT)
    deployment = Deployment(https_port, http_port, gunicorn_port, gunicorn_log, prefix / "error.log")
    try:
        deadline = time.monotonic() + 30
        while True:  # a process start has no event to wait on: poll /healthz through the front, bounded
            for proc, log in ((web, gunicorn_log), (front, prefix / "stderr.log")):
                if proc.poll() is not None:
                    pytest.fail(f"{proc.args[0]} exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(https_port, "GET", "/healthz")[0] == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"the deployment is not ready: {gunicorn_log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield deployment
    finally:
        stop_process(front)
        stop_process(web)


def hold_slow_and_idle(port: int, tls: bool, count: int = 50) -> list[socket.socket]:
    """``count`` connections that send nothing, and ``count`` that send a webhook's headers and one byte of
    a 100 kB body, all from another client address; the caller holds them open."""
    held: list[socket.socket] = []

    def connect() -> socket.socket:
        s = socket.socket()
        s.settimeout(5)
        s.bind((ATTACKER, 0))
        s.connect(("127.0.0.1", port))
        held.append(s)
        return s

    try:
        for _ in range(count):
            connect()
        for _ in range(count):
            s = connect()
            if tls:
                s = tls_context().wrap_socket(s, server_hostname="localhost")
                held.append(s)
            with contextlib.suppress(OSError):  # the front may already refuse this address (limit_conn)
                s.sendall(b"POST /callback HTTP/1.1\r\nHost: localhost\r\nX-Line-Signature: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
    except BaseException:
        for s in held:
            s.close()
        raise
    return held


def test_slow_and_idle_clients_do_not_stop_the_webhook(deployment: Deployment, standin: Any) -> None:
    try:
        socket.create_connection((ATTACKER, 9), timeout=0.1).close()
    except ConnectionRefusedError:
        pass  # the address exists (nothing listens on port 9): a second client address on loopback works
    except OSError as e:
        pytest.skip(f"no second loopback address {ATTACKER} on this system: {e}")
    log = deployment.gunicorn_log.read_text(errors="replace")
    # gunicorn listens on loopback only: outside clients reach it through the front or not at all.
    assert f"Listening at: http://127.0.0.1:{deployment.gunicorn_port}" in log, log[-2000:]

    held = hold_slow_and_idle(deployment.url_port, tls=True)
    try:
        event = standin.text_event("/ลงทะเบียน สป.", user_id=STAFF_SP, group_id=GROUP,
                                   timestamp=datetime.now(BANGKOK))
        body = standin.webhook_body([event])
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": standin.signature(body)}
        # LINE's bound: the webhook must be answered within a second, attack or not.
        assert request(deployment.url_port, "POST", "/callback", body, headers, timeout=1.0)[0] == 200
        assert request(deployment.url_port, "GET", "/healthz", timeout=1.0)[0] == 200
        assert request(deployment.url_port, "GET", "/reports/2564", timeout=5.0)[0] == 200
        assert standin.wait_for(lambda s: len(s.replies()) == 1, timeout=10)
        # A body over 1 MiB is refused by the front itself.
        big = b"{" + b" " * (1024 * 1024) + b"}"
        assert request(deployment.url_port, "POST", "/callback", big, headers, timeout=5.0)[0] == 413
    finally:
        for s in held:
            with contextlib.suppress(OSError):
                s.close()


def response_headers(connection: http.client.HTTPConnection, path: str, body: bytes | None = None) -> tuple[int, Any]:
    try:
        connection.request("POST" if body is not None else "GET", path, body=body)
        response = connection.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        connection.close()


def test_the_front_demands_https_and_does_not_tell_its_version(deployment: Deployment) -> None:
    def https() -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", deployment.url_port, timeout=5, context=tls_context())

    answers = {
        "the app": response_headers(https(), "/healthz"),
        "the app's 404": response_headers(https(), "/nowhere"),
        "the front's 413": response_headers(https(), "/callback", b"x" * (1024 * 1024 + 1)),
    }
    assert [status for status, _ in answers.values()] == [200, 404, 413]
    for where, (_, headers) in answers.items():
        assert headers["Strict-Transport-Security"] == "max-age=31536000", where
        assert headers["Server"] == "nginx", where  # no version: server_tokens off
    # Plain HTTP only redirects, and does not tell the version either (HSTS is for HTTPS answers only).
    status, headers = response_headers(http.client.HTTPConnection("127.0.0.1", deployment.http_port, timeout=5), "/")
    assert status == 301 and headers["Location"].startswith("https://") and headers["Server"] == "nginx"
