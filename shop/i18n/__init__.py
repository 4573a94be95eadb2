"""Languages: the catalogues (gettext, through Babel), the reader's choice and Babel's
formats for money, dates and numbers.

Page templates call `_()` and `ngettext()` (Jinja2's i18n extension), page scripts call
`t()` and `nt()` (static/js/text.js), and Python code marks its messages with `N_()`
keeping their parameters apart (`flash(request, N_("Added {title}."), title=...)`,
`NotFound("product {pid} not found", pid=pid)`): each message is translated where it is
shown, in the reader's language, then filled in. `make catalogues` extracts them all into
`shop/locale/<language>/LC_MESSAGES/messages.po`.
"""

from __future__ import annotations

from shop.models.messages import N_

__all__ = ["N_"]
