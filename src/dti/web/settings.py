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
    site_name_vi: str = "Chỉ số chuyển đổi số cấp tỉnh (DTI)"
    site_name_en: str = "Provincial Digital Transformation Index (DTI)"
    # Editions shown publicly: None = every shipped edition whose status is "published".
    editions: tuple[str, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # The assessment store; None = the portal alone, without log-in (``dti serve`` sets it).
    database_url: str | None = None
    evidence_dir: str = "var/evidence"
    # Mark the session cookie Secure: set when the app is served behind HTTPS.
    secure_cookies: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        editions = env.get("DTI_EDITIONS")
        return cls(host=env.get("DTI_HOST", cls.host), port=int(env.get("DTI_PORT", cls.port)),
                   editions=tuple(e.strip() for e in editions.split(",")) if editions else None,
                   database_url=env.get("DTI_DATABASE_URL") or "sqlite:///var/dti.db",
                   evidence_dir=env.get("DTI_EVIDENCE_DIR") or cls.evidence_dir,
                   secure_cookies=env.get("DTI_SECURE_COOKIES", "").lower() in ("1", "true", "yes"))
