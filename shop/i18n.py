"""Translation markers shared by the code that writes user-facing text.

Page templates call `_()` (Jinja2's i18n extension). Python code marks its messages with
`N_()` and keeps their parameters apart (`flash(request, N_("Added {title}."), title=...)`,
`Invalid("product {pid} not found", pid=pid)`), so each message is translated when it is
shown, in the reader's language. Until the catalogues land, messages read as written.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for extraction; it is translated later, where it is shown."""
    return message
