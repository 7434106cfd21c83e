"""Problem messages in Vietnamese for the assessment app.

The library writes its problems in English (code and docs are English); the app shows a province
officer the Vietnamese sentence for each stable problem code (``dti/messages/problems/vi.yaml``),
keeping the English one beside it.  A code without a Vietnamese sentence shows the English message.
"""

from __future__ import annotations

from typing import Any

from dti.messages import problem_sentence


def localise(problem: dict[str, Any], lang: str) -> dict[str, Any]:
    """The problem as a dict, with ``message`` in ``lang`` and the English kept as ``message_en``."""
    vi = problem_sentence(problem.get("code", ""), "vi")
    if lang != "vi" or vi is None:
        return problem
    return {**problem, "message": vi, "message_en": problem.get("message")}
