"""Messages of the pure indicator modules (catalogue, presets, periods), translated on the page.

Pure Python (no Django). A pure module cannot translate, and a message translated after its
placeholders are filled has no entry in the catalogue (docs/adr/0002). A :class:`Text` is the Chinese
text itself (a ``str``: data, exports, FHIR and tests see the message filled in) that also keeps its
message id, plural form and arguments, so that the page can translate the template first, then each
argument that is itself a Text, and fill it in (``selectors.tr``). An argument that is not a Text
(a number, a rule-set code) goes in as it is; text that is not a Text (what a district typed into its
own preset) is never translated.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Text", "mark"]


class Text(str):
    """A message id (or a singular/plural pair chosen by the argument named ``count``) with its
    arguments; ``str`` of it is the Chinese text, ``translate`` the text in the active language."""

    msgid: str
    plural: str | None
    count: str | None
    args: dict[str, object]

    def __new__(cls, msgid: str, plural: str | None = None, *, count: str | None = None, **args: object) -> Text:
        if plural is not None and (count is None or count not in args):
            raise ValueError(f"plural message {msgid!r} needs the argument that counts")
        chosen = msgid if plural is None or args[count] == 1 else plural
        self = super().__new__(cls, chosen.format(**args) if args else chosen)
        self.msgid, self.plural, self.count, self.args = msgid, plural, count, args
        return self

    def translate(self, gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str]) -> str:
        """The text in the language of ``gettext``/``ngettext``: template translated, then filled."""
        args = {k: v.translate(gettext, ngettext) if isinstance(v, Text) else v for k, v in self.args.items()}
        if self.plural is None:
            template = gettext(self.msgid)
        else:
            template = ngettext(self.msgid, self.plural, int(self.args[self.count]))  # type: ignore[index,call-overload]
        return template.format(**args) if args else template


def mark(msgid: str, **args: object) -> Text:
    """Mark a message for translation (the pure modules import it as ``_``); the page translates it."""
    return Text(msgid, **args)
