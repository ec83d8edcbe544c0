"""The production front as the README deploys it: HAProxy with deploy/haproxy/ita-bot.cfg on the public ports, nginx
with deploy/nginx/ita-bot.conf behind it, gunicorn (the Procfile's web line) behind that, all on 127.0.0.1. Slow,
idle and half-open clients from one address must not keep LINE's signed webhook from being answered."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import resource
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import GROUP, ROOT, SECRETARY, STAFF_SP, write_config
from tests.console_harness import form_fields, link_in
from tests.processes import stop_process

SITE = ROOT / "deploy" / "nginx" / "ita-bot.conf"
SHIELD = ROOT / "deploy" / "haproxy" / "ita-bot.cfg"
GUNICORN = Path(sys.executable).with_name("gunicorn")
ATTACKER = "127.0.0.2"  # loopback too, but another client address than LINE's (the test's 127.0.0.1)


@dataclass
class Ports:
    http: int  # HAProxy's (80 in production)
    https: int  # HAProxy's (443)
    nginx_http: int  # nginx's on loopback (8080)
    nginx_https: int  # (8443)
    gunicorn: int  # (8000)


@dataclass
class Deployment:
    url_port: int
    http_port: int
    gunicorn_port: int
    gunicorn_log: Path
    nginx_log: Path
    access_log: Path


def sbin(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}",) if os.path.exists(p)), None)


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
    """One of the README's edits to a shipped file; the text must be there (the file's shape is part of the test)."""
    assert old in text, f"the shipped file no longer contains {old!r}"
    return text.replace(old, new)


def site_for_test(ports: Ports, tls: Path, logs: Path) -> str:
    """The site file with the README's edits (host, certificate, PORT), on loopback test ports."""
    text = SITE.read_text()
    text = substitute(text, "/etc/letsencrypt/live/ita.example.go.th/", f"{tls}/")
    text = substitute(text, "ita.example.go.th", "localhost")
    text = substitute(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{ports.gunicorn};")
    text = substitute(text, "/var/log/nginx/", f"{logs}/")
    text = substitute(text, "listen 127.0.0.1:8080 ", f"listen 127.0.0.1:{ports.nginx_http} ")
    return substitute(text, "listen 127.0.0.1:8443 ", f"listen 127.0.0.1:{ports.nginx_https} ")


def shield_for_test(ports: Ports) -> str:
    """HAProxy's file as shipped, on loopback test ports (80 and 443 need root and may be taken)."""
    text = SHIELD.read_text()
    text = re.sub(r"^\s*bind :::\d+ v6only$", "", text, flags=re.M)
    text = substitute(text, "bind :443\n", f"bind 127.0.0.1:{ports.https}\n")
    text = substitute(text, "bind :80\n", f"bind 127.0.0.1:{ports.http}\n")
    text = substitute(text, "server nginx 127.0.0.1:8443 ", f"server nginx 127.0.0.1:{ports.nginx_https} ")
    return substitute(text, "server nginx 127.0.0.1:8080 ", f"server nginx 127.0.0.1:{ports.nginx_http} ")


def haproxy_main_config() -> str:
    """What Debian's /etc/haproxy/haproxy.cfg provides before the bot's file, less what needs the system
    (syslog socket, chroot, user, daemon: the test runs HAProxy in the foreground as itself)."""
    return """global
    stats timeout 30s
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets

defaults
    log global
    mode http
    option httplog
    option dontlognull
    timeout connect 5000
    timeout client 50000
    timeout server 50000
"""


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


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return ctx


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 1.0, source: str = "127.0.0.1") -> tuple[int, bytes]:
    """One HTTPS request through the front from ``source``; raises if it is not answered within ``timeout``."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context(),
                                       source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()




def started(procs: list[tuple[subprocess.Popen[bytes], Path]], port: int) -> None:
    """Poll /healthz through the whole front until it answers (a process start has no event to wait on), bounded."""
    deadline = time.monotonic() + 30
    while True:
        for proc, log in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args[0]} exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if request(port, "GET", "/healthz")[0] == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail("the deployment is not ready: " + " | ".join(
                log.read_text(errors="replace")[-1000:] for _, log in procs))
        time.sleep(0.1)


@pytest.fixture
def deployment(tmp_path: Path, standin: Any) -> Iterator[Deployment]:
    nginx, haproxy = sbin("nginx"), sbin("haproxy")
    if nginx is None:
        pytest.skip("nginx is not installed (Debian package nginx-light): the production front cannot be started")
    if haproxy is None:
        pytest.skip("HAProxy is not installed (Debian package haproxy): the production front cannot be started")
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
    ports = Ports(*(free_port() for _ in range(5)))
    site = prefix / "ita-bot.conf"
    site.write_text(site_for_test(ports, tls, prefix))
    (prefix / "nginx.conf").write_text(main_config(prefix, site))
    (tmp_path / "haproxy.cfg").write_text(haproxy_main_config())
    (tmp_path / "ita-bot.cfg").write_text(shield_for_test(ports))

    # A site served on another port than 443, as the console's same-origin check must allow.
    config = write_config(tmp_path, {"web": {"base_url": f"https://127.0.0.1:{ports.https}"}})
    env = {**os.environ, "ITA_BOT_CONFIG": str(config),
           "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
           "LINE_DATA_API_ENDPOINT": standin.url, "PORT": str(ports.gunicorn), "PYTHONUNBUFFERED": "1"}
    for key in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        env.pop(key, None)  # the documented defaults: 2 workers × 4 threads
    logs = {name: tmp_path / f"{name}.log" for name in ("gunicorn", "nginx", "haproxy")}
    commands = {
        "gunicorn": (procfile_web(), ROOT),
        "nginx": ([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], prefix),
        # As Debian's unit runs it (-f the stock file, -f the bot's), in the foreground (-db).
        "haproxy": ([haproxy, "-db", "-f", str(tmp_path / "haproxy.cfg"), "-f", str(tmp_path / "ita-bot.cfg")],
                    tmp_path),
    }
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for name, (argv, cwd) in commands.items():
            with open(logs[name], "wb") as out:
                procs.append((subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT),
                              logs[name]))
        started(procs, ports.https)
        yield Deployment(ports.https, ports.http, ports.gunicorn, logs["gunicorn"], prefix / "error.log",
                         prefix / "access.log")
    finally:
        for proc, _ in reversed(procs):
            stop_process(proc)


def hold_slow_and_idle(port: int, count: int = 50) -> tuple[list[socket.socket], int]:
    """``count`` connections that send a webhook's headers and one byte of a 100 kB body, then ``count`` that
    send nothing, all from another client address; the caller holds them open. Also: how many slow bodies
    got through the TLS handshake (the front refuses the rest of this address's connections)."""
    held: list[socket.socket] = []
    slow_bodies = 0

    def connect() -> socket.socket:
        s = socket.socket()
        s.settimeout(5)
        s.bind((ATTACKER, 0))
        s.connect(("127.0.0.1", port))
        held.append(s)
        return s

    try:
        for _ in range(count):
            try:
                s = tls_context().wrap_socket(connect(), server_hostname="localhost")
            except OSError:
                continue  # over this address's share: closed at once
            held.append(s)
            with contextlib.suppress(OSError):
                s.sendall(b"POST /callback HTTP/1.1\r\nHost: localhost\r\nX-Line-Signature: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
                slow_bodies += 1
        for _ in range(count):
            with contextlib.suppress(OSError):
                connect()
    except BaseException:
        for s in held:
            s.close()
        raise
    return held, slow_bodies


def require_second_address() -> None:
    try:
        socket.create_connection((ATTACKER, 9), timeout=0.1).close()
    except ConnectionRefusedError:
        pass  # the address exists (nothing listens on port 9): a second client address on loopback works
    except OSError as e:
        pytest.skip(f"no second loopback address {ATTACKER} on this system: {e}")


def signed_webhook(standin: Any, text: str, user: str) -> tuple[bytes, dict[str, str]]:
    """What LINE POSTs to /callback when ``user`` sends ``text`` to the bot in a private chat."""
    body = standin.webhook_body([standin.text_event(text, user_id=user, timestamp=datetime.now(BANGKOK))])
    return body, {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": standin.signature(body)}


def test_slow_and_idle_clients_do_not_stop_the_webhook(deployment: Deployment, standin: Any) -> None:
    require_second_address()
    log = deployment.gunicorn_log.read_text(errors="replace")
    # gunicorn listens on loopback only: outside clients reach it through the front or not at all.
    assert f"Listening at: http://127.0.0.1:{deployment.gunicorn_port}" in log, log[-2000:]

    held, slow_bodies = hold_slow_and_idle(deployment.url_port)
    try:
        # More unfinished bodies than gunicorn has threads (2 workers × 4) reached nginx, which holds them.
        assert slow_bodies > 8
        event = standin.text_event("/ลงทะเบียน สป.", user_id=STAFF_SP, group_id=GROUP,
                                   timestamp=datetime.now(BANGKOK))
        body = standin.webhook_body([event])
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": standin.signature(body)}
        # LINE's bound: the webhook must be answered within a second, attack or not.
        assert request(deployment.url_port, "POST", "/callback", body, headers, timeout=1.0)[0] == 200
        assert request(deployment.url_port, "GET", "/healthz", timeout=5.0)[0] == 200  # LINE's bound is for the webhook
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


def test_nginx_sees_and_logs_the_clients_own_address(deployment: Deployment) -> None:
    """nginx behind HAProxy still knows who is asking (the PROXY protocol), so its per-address limit and its log
    name the client, not HAProxy's loopback address."""
    require_second_address()
    assert request(deployment.url_port, "GET", "/healthz?from=second", timeout=5.0, source=ATTACKER)[0] == 200
    assert request(deployment.url_port, "GET", "/healthz?from=first", timeout=5.0)[0] == 200
    # nginx writes its access-log line after the response has gone out, so the last line may land a moment later.
    deadline = time.monotonic() + 5.0
    while True:
        lines = deployment.access_log.read_text().splitlines()
        addresses = [ln.split()[0] for ln in lines if "/healthz?from=" in ln]
        if len(addresses) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert addresses == [ATTACKER, "127.0.0.1"], lines


def server_blocks(conf: str) -> list[str]:
    """The text of each top-level ``server { … }`` block of an nginx site file."""
    blocks, depth, current = [], 0, None
    for line in conf.splitlines():
        code = line.split("#", 1)[0]
        if depth == 0 and re.match(r"\s*server\s*\{", code):
            current = []
        if current is not None:
            current.append(code)
        depth += code.count("{") - code.count("}")
        if depth == 0 and current is not None:
            blocks.append("\n".join(current))
            current = None
    return blocks


def test_every_server_of_the_front_drops_a_header_that_never_ends() -> None:
    """No server of the shipped front, the plain-HTTP redirect included, keeps nginx's 60-second default for a
    request header that never ends, and each takes its connections from HAProxy only (loopback, PROXY protocol)."""
    blocks = server_blocks(SITE.read_text())
    assert len(blocks) == 2
    for block in blocks:
        timeout = re.search(r"^\s*client_header_timeout (\d+)s;", block, flags=re.M)
        assert timeout and int(timeout.group(1)) <= 10, block
        assert re.search(r"^\s*send_timeout \d+s;", block, flags=re.M), block
        listens = re.findall(r"^\s*listen (.*);", block, flags=re.M)
        assert listens and all(ln.startswith("127.0.0.1:") and "proxy_protocol" in ln for ln in listens), block
        assert "real_ip_header proxy_protocol;" in block and "set_real_ip_from 127.0.0.1;" in block


@pytest.mark.timeout(240)
def test_one_address_flooding_both_ports_for_a_minute_never_delays_the_webhook(deployment: Deployment,
                                                                              standin: Any) -> None:
    """One address that opens 2,000 connections sending half a request header to port 80 and 2,000 that never
    finish a TLS handshake on port 443, and opens them again every second for a minute, cannot take the front
    from LINE: every signed webhook from another address meanwhile is answered, 200 within LINE's second."""
    require_second_address()
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 5000:
        pytest.skip("the file limit is under 5,000: the flood cannot hold its 4,000 connections here")
    flood = subprocess.Popen([sys.executable, "-m", "tests.scenarios.front_flood", "--source", ATTACKER,
                              "--http", str(deployment.http_port), "--https", str(deployment.url_port),
                              "--count", "2000", "--seconds", "60"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answers: list[int | str] = []
    try:
        assert flood.stdout is not None and flood.stdout.readline().strip() == "ready"  # its first burst is out
        while flood.poll() is None:
            body, headers = signed_webhook(standin, "/ช่วยเหลือ", STAFF_SP)
            try:  # LINE's own timeout: an answer later than a second is a timeout here too
                status: int | str = request(deployment.url_port, "POST", "/callback", body, headers, timeout=1.0)[0]
            except (OSError, http.client.HTTPException) as e:
                status = repr(e)
            answers.append(status)
            time.sleep(0.5)
        output = flood.communicate(timeout=30)[0]
    finally:
        stop_process(flood)  # type: ignore[arg-type]
    assert flood.returncode == 0, output
    counts = json.loads(output.strip().splitlines()[-1])
    # The flood really ran: a burst of 4,000 every second, each topping up what the front had closed.
    assert counts["rounds"] >= 30 and counts["attempts"] >= 20 * 4000, counts
    # LINE's bound, attack or not: each webhook is answered 200 within a second (LINE gives up after it).
    assert len(answers) >= 40
    assert [status for status in answers if status != 200] == [], counts


def sign_in_link(deployment: Deployment, standin: Any) -> str:
    """The secretary asks the bot for a sign-in link (through the front, as LINE delivers it); its path."""
    body, headers = signed_webhook(standin, "/จัดการ", SECRETARY)
    assert request(deployment.url_port, "POST", "/callback", body, headers, timeout=5.0)[0] == 200
    assert standin.wait_for(lambda s: any(link_in(m.get("text", "")) for r in s.replies() for m in r["messages"]),
                            timeout=10)
    link = next(found for r in standin.replies() for m in r["messages"] if (found := link_in(m.get("text", ""))))
    return urlsplit(link).path


def browser() -> urllib.request.OpenerDirector:
    """A browser's cookie jar and redirects, over the front's self-signed HTTPS, from 127.0.0.1."""
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()),
                                       urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def test_sign_in_links_stay_out_of_the_fronts_access_log(deployment: Deployment, standin: Any) -> None:
    """A sign-in link opened through the front leaves no usable key in nginx's log, neither as the request nor
    as the Referer of the page opened from it: a link left unused (LINE's preview) must not open the console
    for whoever reads the log."""
    path = sign_in_link(deployment, standin)
    token = path.rsplit("/", 1)[1]
    base = f"https://127.0.0.1:{deployment.url_port}"
    me = browser()
    with me.open(base + path, timeout=10) as page:  # signed in, redirected to the console
        assert urlsplit(page.url).path == "/admin" and page.status == 200
    with me.open(urllib.request.Request(base + "/admin/members", headers={"Referer": base + path}), timeout=10):
        pass
    # And over plain HTTP, where the front only redirects.
    status, headers = response_headers(http.client.HTTPConnection("127.0.0.1", deployment.http_port, timeout=5),
                                       path)
    assert status == 301 and token in headers["Location"]
    # One more answer: nginx writes a request's log line before it serves the next one.
    assert request(deployment.url_port, "GET", "/healthz", timeout=5.0)[0] == 200
    log = deployment.access_log.read_text(errors="replace")
    assert log.count("/admin/login/[hidden]") == 3, log  # the link over HTTPS and HTTP, and as a Referer
    assert token not in log and token not in deployment.nginx_log.read_text(errors="replace")


def test_a_console_form_posts_through_the_front_on_a_port_other_than_443(deployment: Deployment,
                                                                        standin: Any) -> None:
    """The secretary's console works on a site served on another port than 443: her form's same-origin check
    sees the port she used, so issuing a role code through the front succeeds."""
    base = f"https://127.0.0.1:{deployment.url_port}"
    me = browser()
    with me.open(base + sign_in_link(deployment, standin), timeout=10) as page:
        assert urlsplit(page.url).path == "/admin"
    with me.open(base + "/admin/members", timeout=10) as page:
        fields = form_fields(page.read().decode(), "/admin/members/code")
    fields.setlist("role", ["member"])
    form = urllib.request.Request(base + "/admin/members/code", data=urlencode(list(fields.items(multi=True))).encode(),
                                  headers={"Referer": base + "/admin/members"})  # what the browser sends
    with me.open(form, timeout=10) as page:
        html = page.read().decode()
    assert page.status == 200 and 'class="code"' in html, html[-3000:]
