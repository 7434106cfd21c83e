"""Deployment settings of the portal, read from ``DTI_*`` environment variables in ``main()``
— never at import time, so tests build apps with their own settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    site_name_vi: str = "Chỉ số chuyển đổi số (DTI)"   # three levels: provinces, ministries, the nation
    site_name_en: str = "Digital Transformation Index (DTI)"
    # Editions shown publicly: None = every shipped edition whose status is "published".
    editions: tuple[str, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The assessment store; None = the portal alone, without log-in (``dti serve`` sets it).
    database_url: str | None = None
    evidence_dir: str = "var/evidence"
    # Mark the session cookie Secure: set when the app is served behind HTTPS.
    secure_cookies: bool = False
    # Evidence bytes one province may upload to one edition's assessment, in MB (removed files
    # count: their bytes stay in the record).
    evidence_quota_mb: int = 500
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; from any
    # other peer the header is ignored, else a client could rotate it to escape log-in throttling.
    trusted_proxies: tuple[str, ...] = ()
    # Public answers: PDF reports kept on disk here (None: rendered on request, kept in memory);
    # PDF renders at once on request (more: 503 + Retry-After); page and planner renders at once
    # per pool; bytes of answers kept in memory; at start and after a publication, build the
    # main pages (warm_up) and render every published report onto disk (render_ahead).
    report_dir: str | None = None
    report_renders: int = 1
    page_renders: int = 2
    cache_bytes: int = 64 * 2**20
    warm_up: bool = False
    render_ahead: bool = False
    # Requests a worker process runs at once in its threads (the routes that read or write the
    # store; more wait their turn).  Python runs one thread at a time: beyond a few, threads only
    # queue for the interpreter, and each of a request's database round trips waits for it again
    # (benchmarks/load.py: saves p99 474 ms with 40, 91 ms with 8).
    request_threads: int = 8
    # A serving process tunes the cyclic collector once started (``portal_http.settle_heap``);
    # off for apps built in tests or tools, which share their interpreter with other work.
    settle_heap: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        editions = env.get("DTI_EDITIONS")
        return cls(host=env.get("DTI_HOST", cls.host), port=int(env.get("DTI_PORT", cls.port)),
                   editions=tuple(e.strip() for e in editions.split(",")) if editions else None,
                   database_url=env.get("DTI_DATABASE_URL") or "sqlite:///var/dti.db",
                   evidence_dir=env.get("DTI_EVIDENCE_DIR") or cls.evidence_dir,
                   secure_cookies=env.get("DTI_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
                   evidence_quota_mb=_megabytes(env, "DTI_EVIDENCE_QUOTA_MB", cls.evidence_quota_mb),
                   trusted_proxies=_networks(env.get("DTI_TRUSTED_PROXIES", "")),
                   report_dir=env.get("DTI_REPORT_DIR") or "var/reports",
                   report_renders=_count(env, "DTI_REPORT_RENDERS", cls.report_renders),
                   page_renders=_count(env, "DTI_PAGE_RENDERS", cls.page_renders),
                   request_threads=_count(env, "DTI_REQUEST_THREADS", cls.request_threads),
                   warm_up=env.get("DTI_WARM_UP", "1").lower() not in ("0", "false", "no"),
                   render_ahead=env.get("DTI_RENDER_AHEAD", "1").lower() not in ("0", "false", "no"),
                   settle_heap=True)


def _networks(value: str) -> tuple[str, ...]:
    """``DTI_TRUSTED_PROXIES``: addresses or networks, comma-separated, each checked at start."""
    import ipaddress

    from dti.errors import DtiError

    entries = tuple(e.strip() for e in value.split(",") if e.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise DtiError(f"DTI_TRUSTED_PROXIES: {entry!r} is not an IP address or network; "
                             "write addresses such as 10.0.0.5 or 10.0.0.0/24, comma-separated") from None
    return entries


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A small positive whole number of workers, or a one-line error naming the variable."""
    from dti.errors import DtiError

    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise DtiError(f"{name}: {raw!r} is not a number of workers; give a whole number from 1 to 64")
    return int(raw)


def _megabytes(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of megabytes (at least 1), or a one-line error naming the variable."""
    from dti.errors import DtiError

    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise DtiError(f"{name}: {raw!r} is not a size in MB; give a whole number of at least 1")
    return int(raw)
