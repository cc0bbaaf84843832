"""Consent keywords: which inbound texts are a STOP, a START or a HELP (DOMAIN.md §3).

A keyword is the user's own words, so only the whole message counts (trimmed, any case: "stop"
and " Stop " are STOP, "please stop" is not), and only text the user typed: a tapped button
or list choice is an answer in a conversation (its title may well read "Yes"), never consent.
Adapters say which is which: the typed text as `ProviderFacts.text`, a tapped title as
`ProviderFacts.choice`.

The default lists are Twilio's (the words Twilio itself, and US carriers, act on whatever we
do), so a deployment can only add words, never drop one: a number Twilio has blocked must not
look subscribed here. Twilio's Advanced Opt-Out also sends its own reading of the message
(`STOP`, `START`, `HELP`, including the custom words configured at Twilio), which its adapter
passes as `ProviderFacts.opt_out`: the provider's verdict, so it wins over ours.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from engage_core.observations import ProviderFacts


class Keyword(enum.Enum):
    STOP = "STOP"  # unsubscribe and lock
    START = "START"  # re-subscribe (unlock)
    HELP = "HELP"  # a request for help: no consent change


DEFAULT_WORDS: Mapping[Keyword, tuple[str, ...]] = {
    Keyword.STOP: (
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    ),
    Keyword.START: ("START", "YES", "UNSTOP"),
    Keyword.HELP: ("HELP", "INFO"),
}  # fmt: skip
ENVIRONMENT_VARIABLES: Mapping[Keyword, str] = {
    Keyword.STOP: "ENGAGE_STOP_WORDS",
    Keyword.START: "ENGAGE_START_WORDS",
    Keyword.HELP: "ENGAGE_HELP_WORDS",
}


def normalised(word: str) -> str:
    """How a word is compared: trimmed, upper-cased, then case-folded, so any casing of a
    word matches it (`ß` and `SS`; the dotless i, whose case-fold alone would not meet `I`)."""
    return word.strip().upper().casefold()


def _words(words: Iterable[str]) -> frozenset[str]:
    return frozenset(normalised(word) for word in words)


@attrs.frozen
class Keywords:
    """The words of each kind, normalised. Construct with `Keywords.adding(...)` to keep
    Twilio's defaults; a word may be of one kind only (`ValueError` names it otherwise)."""

    stop: frozenset[str] = attrs.field(converter=_words)
    start: frozenset[str] = attrs.field(converter=_words)
    help: frozenset[str] = attrs.field(converter=_words)

    def __attrs_post_init__(self) -> None:
        seen: dict[str, Keyword] = {}
        for kind in Keyword:
            for word in sorted(self.words(kind)):
                if not word:
                    raise ValueError(f"{kind.value} words: an empty word would match nothing")
                other = seen.setdefault(word, kind)
                if other is not kind:
                    raise ValueError(
                        f"{word.upper()!r} cannot be both a {other.value} and a {kind.value} word"
                    )

    @classmethod
    def adding(
        cls, *, stop: Iterable[str] = (), start: Iterable[str] = (), help: Iterable[str] = ()
    ) -> Keywords:
        """Twilio's default words and these."""
        return cls(
            stop=[*DEFAULT_WORDS[Keyword.STOP], *stop],
            start=[*DEFAULT_WORDS[Keyword.START], *start],
            help=[*DEFAULT_WORDS[Keyword.HELP], *help],
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Keywords:
        """The defaults and the comma-separated words of `ENGAGE_STOP_WORDS`,
        `ENGAGE_START_WORDS` and `ENGAGE_HELP_WORDS` (blank entries skipped). `ValueError`,
        naming the variable, for a word given two kinds."""
        added = {
            kind: [word for word in environ.get(name, "").split(",") if word.strip()]
            for kind, name in ENVIRONMENT_VARIABLES.items()
        }
        try:
            return cls.adding(
                stop=added[Keyword.STOP], start=added[Keyword.START], help=added[Keyword.HELP]
            )
        except ValueError as error:
            named = ", ".join(ENVIRONMENT_VARIABLES[kind] for kind in Keyword if added[kind])
            raise ValueError(f"{named}: {error}") from None

    def words(self, kind: Keyword) -> frozenset[str]:
        return {Keyword.STOP: self.stop, Keyword.START: self.start, Keyword.HELP: self.help}[kind]

    def reading(self, text: str) -> Keyword | None:
        """The keyword this whole message is, if any."""
        word = normalised(text)
        for kind in Keyword:
            if word in self.words(kind):
                return kind
        return None

    def verdict(self, facts: ProviderFacts) -> Keyword | None:
        """What an inbound message says about consent: the provider's opt-out verdict when it
        is one we know; else nothing for a tapped choice; else the typed text's keyword."""
        if facts.opt_out is not None:
            try:
                return Keyword(facts.opt_out.strip().upper())
            except ValueError:
                pass  # a verdict we do not know: the user's own words still count
        if facts.choice is not None:
            return None
        if facts.text is not None and facts.text.strip():
            return self.reading(facts.text)
        return None


DEFAULT_KEYWORDS = Keywords.adding()
