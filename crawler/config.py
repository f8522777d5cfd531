"""Crawler settings: ``[crawler]`` and ``[crawler.<source>]`` in ``regwatch.toml``, plus CLI overrides."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .sources import SOURCES


class CrawlConfigError(Exception):
    """One-line configuration problem (exit code 2)."""


@dataclass(frozen=True)
class CrawlConfig:
    db_path: Path
    base_urls: dict[str, str]
    options: dict[str, dict[str, Any]]  # per-source options (e.g. fr.since, ecfr.parts, bis.pages)
    contact: str = ""
    timeout_seconds: float = 60.0
    retries: int = 4
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_body_mb: float = 50.0
    autothrottle: bool = True
    obey_robots: bool = True
    concurrency: int = 4
    progress: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def user_agent(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("regwatch")
        except PackageNotFoundError:  # pragma: no cover - running from a checkout without install
            v = "dev"
        contact = f"; contact: {self.contact}" if self.contact else ""
        return f"regwatch/{v} (export-control change tracker{contact})"

    def with_overrides(self, base_urls: dict[str, str]) -> CrawlConfig:
        merged = dict(self.base_urls)
        for name, url in base_urls.items():
            merged[name] = check_url(url, f"--{name}-base-url")
        return replace(self, base_urls=merged)


_GLOBAL: dict[str, type | tuple[type, ...]] = {
    "contact": str, "timeout_seconds": (int, float), "retries": int, "backoff_base_seconds": (int, float),
    "backoff_max_seconds": (int, float), "max_body_mb": (int, float), "autothrottle": bool, "obey_robots": bool,
    "concurrency": int,
}


def check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CrawlConfigError(f"{where}: '{url}' is not an http(s) URL")
    return url.rstrip("/")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_crawl_config(config_file: Path | None, db_path: Path) -> CrawlConfig:
    data: dict[str, Any] = {}
    if config_file is not None and config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8")).get("crawler", {})
        except tomllib.TOMLDecodeError as exc:
            raise CrawlConfigError(f"{config_file}: invalid TOML: {exc}") from None
    where = str(config_file) if config_file else "regwatch.toml"
    if not isinstance(data, dict):
        raise CrawlConfigError(f"{where}: [crawler] must be a table")
    kwargs: dict[str, Any] = {}
    base_urls = {name: spec.default_base_url for name, spec in SOURCES.items()}
    options: dict[str, dict[str, Any]] = {name: dict(spec.default_options) for name, spec in SOURCES.items()}
    for key, value in data.items():
        if key in SOURCES:
            if not isinstance(value, dict):
                raise CrawlConfigError(f"{where}: [crawler.{key}] must be a table")
            for k, v in value.items():
                if k == "base_url":
                    if not isinstance(v, str):
                        raise CrawlConfigError(f"{where}: crawler.{key}.base_url must be a string")
                    base_urls[key] = check_url(v, f"{where}: crawler.{key}.base_url")
                elif k in SOURCES[key].default_options:
                    expected = type(SOURCES[key].default_options[k])
                    if not isinstance(v, expected):
                        raise CrawlConfigError(f"{where}: crawler.{key}.{k} must be a {expected.__name__}")
                    options[key][k] = v
                else:
                    raise CrawlConfigError(f"{where}: unknown setting 'crawler.{key}.{k}'")
        elif key in _GLOBAL:
            if not isinstance(value, _GLOBAL[key]) or (isinstance(value, bool) and _GLOBAL[key] is not bool):
                raise CrawlConfigError(f"{where}: crawler.{key} has the wrong type")
            kwargs[key] = value
        else:
            raise CrawlConfigError(f"{where}: unknown setting 'crawler.{key}'")
    return CrawlConfig(db_path=db_path, base_urls=base_urls, options=options, **kwargs)
