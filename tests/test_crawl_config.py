"""Crawler settings: defaults, overrides, politeness switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import CrawlConfigError, is_loopback, load_crawl_config
from crawler.runner import scrapy_settings


def test_defaults_point_at_the_real_services(tmp_path: Path) -> None:
    cfg = load_crawl_config(None, tmp_path / "d.db")
    assert cfg.base_urls == {"fr": "https://www.federalregister.gov", "ecfr": "https://www.ecfr.gov",
                             "bis": "https://www.bis.gov"}
    assert cfg.options["ecfr"]["parts"] == [734, 740, 742, 744, 774]
    s = scrapy_settings(cfg, ["fr", "ecfr", "bis"])
    assert s["AUTOTHROTTLE_ENABLED"] is True and s["ROBOTSTXT_OBEY"] is True
    assert s["USER_AGENT"].startswith("regwatch/")


def test_loopback_sources_are_not_throttled(tmp_path: Path) -> None:
    cfg = load_crawl_config(None, tmp_path / "d.db").with_overrides({"fr": "http://127.0.0.1:9/fr"})
    assert scrapy_settings(cfg, ["fr"])["AUTOTHROTTLE_ENABLED"] is False
    assert scrapy_settings(cfg, ["fr", "bis"])["AUTOTHROTTLE_ENABLED"] is True
    assert is_loopback("http://localhost:8080") and is_loopback("http://[::1]:80") and not is_loopback("https://x.gov")


def test_contact_goes_into_the_user_agent(tmp_path: Path) -> None:
    toml = tmp_path / "regwatch.toml"
    toml.write_text('[crawler]\ncontact = "ops@example.invalid"\n[crawler.ecfr]\nparts = [774]\n')
    cfg = load_crawl_config(toml, tmp_path / "d.db")
    assert "contact: ops@example.invalid" in cfg.user_agent() and cfg.options["ecfr"]["parts"] == [774]


@pytest.mark.parametrize(("text", "message"), [
    ("[crawler]\nretries = 'many'\n", "crawler.retries has the wrong type"),
    ("[crawler]\nretry = 3\n", "unknown setting 'crawler.retry'"),
    ("[crawler.fr]\nbase_url = 'gopher://x'\n", "not an http(s) URL"),
    ("[crawler.ecfr]\nparts = '774'\n", "crawler.ecfr.parts must be a list"),
    ("[crawler\n", "invalid TOML"),
])
def test_bad_settings(tmp_path: Path, text: str, message: str) -> None:
    toml = tmp_path / "regwatch.toml"
    toml.write_text(text)
    with pytest.raises(CrawlConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_crawl_config(toml, tmp_path / "d.db")
