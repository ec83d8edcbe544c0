"""The floor of benchmark 1: the least a LINE bot can do per webhook, under the same gunicorn settings.

It verifies the signature, parses the body and calls the reply endpoint once, in the request
(no journal, no store, no commands). It uses line-bot-sdk's MessagingApi for the reply, as the bot
does, so the ratio measures what the bot adds on top of an SDK reply, not the SDK itself.

Run: `gunicorn -c gunicorn.conf.py benchmarks.floor_app:app` with FLOOR_CHANNEL_SECRET,
LINE_CHANNEL_ACCESS_TOKEN and LINE_API_ENDPOINT set (the benchmark script does this).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading

from flask import Flask, Response, request
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage

app = Flask(__name__)
_local = threading.local()  # one API client per thread, as the bot's journal threads each reuse a pool


def _api() -> MessagingApi:
    api = getattr(_local, "api", None)
    if api is None:
        config = Configuration(
            host=os.environ.get("LINE_API_ENDPOINT", "https://api.line.me"),
            access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
        )
        api = _local.api = MessagingApi(ApiClient(config))
    return api


@app.post("/callback")
def callback() -> Response:
    body = request.get_data()
    secret = os.environ["FLOOR_CHANNEL_SECRET"].encode()
    expected = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, request.headers.get("X-Line-Signature", "").encode()):
        return Response("bad signature\n", status=400)
    events = json.loads(body).get("events") or []
    token = next((e.get("replyToken") for e in events if e.get("replyToken")), None)
    if token:
        _api().reply_message(ReplyMessageRequest(replyToken=token, messages=[TextMessage(text="รับทราบค่ะ")]),
                             _request_timeout=(3.05, 10.0))
    return Response("OK\n", status=200)


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok\n", status=200)
