"""Webhook notifications: POST the digest's JSON to a configured URL, with retries.

Retries on connection errors, timeouts, 429 and 5xx, with exponential backoff (honouring ``Retry-After`` in
seconds, capped); other 4xx fail at once. The URL may hold a token, so it is never logged: messages name the
host only.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_WAIT = 30.0


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    status: int | None
    message: str


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def post_json(url: str, payload: dict[str, Any], *, retries: int = 3, timeout: float = 10.0, backoff: float = 1.0,
              sleep: Callable[[float], None] = time.sleep, user_agent: str = "regwatch") -> Delivery:
    if urlsplit(url).scheme not in ("http", "https"):
        return Delivery(False, 0, None, "webhook_url must be an http(s) URL")
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    status: int | None = None
    why = ""
    for attempt in range(1, retries + 2):
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": user_agent})
        wait = backoff * 2 ** (attempt - 1)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Delivery(True, attempt, resp.status, f"delivered to {_host(url)} ({resp.status})")
        except urllib.error.HTTPError as e:
            status, why = e.code, f"HTTP {e.code}"
            if e.code != 429 and e.code < 500:
                return Delivery(False, attempt, status, f"{_host(url)} refused the digest: {why}")
            ra = e.headers.get("Retry-After") if e.headers else None
            if ra and ra.strip().isdigit():
                wait = float(ra.strip())
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            status, why = None, type(getattr(e, "reason", e)).__name__
        if attempt <= retries:
            sleep(min(wait, MAX_WAIT))
    return Delivery(False, retries + 1, status, f"{_host(url)}: gave up after {retries + 1} attempts ({why})")
