"""Words shared by every page of the assessment app, Vietnamese first.  Each route module adds
its own section of ``dti/messages/app.yaml`` (passed to :func:`dti.web.assessment.deps.render` as
``extra_text``)."""

from __future__ import annotations

from dti.messages import bilingual

ROLE_NAMES = bilingual("app.roles")

STATE_NAMES = bilingual("app.states")

TEXT = bilingual("app.common")


def text(lang: str) -> dict[str, str]:
    lang = "en" if lang == "en" else "vi"
    return {**TEXT[lang], **{f"role_{k}": v for k, v in ROLE_NAMES[lang].items()},
            **{f"state_{k}": v for k, v in STATE_NAMES[lang].items()}}
