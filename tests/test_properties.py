"""Property tests of what parses user text and shapes it for Telegram: never an exception."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.choices import option_error_text
from bot.formatting import ELLIPSIS, escape, is_blank, shorten, split_text
from bot.i18n import create_i18n
from bot.options import CONFLICT, MISSING_VALUE, OptionSyntaxError, ParsedText, parse_options
from handlers.describe.filters import caption_question
from playground.telegram import parse_html

ENGLISH = create_i18n("en")
DETERMINISTIC = settings(max_examples=300, deadline=None, derandomize=True)
"""The same examples on every run, so a failure shows up every time (and in CI first)."""

BOT = "iris_test_bot"
_OPTION_TOKEN = re.compile(r"^(?:--|—|–)[A-Za-z][A-Za-z0-9_]*$")
_MENTION = re.compile(rf"@{BOT}\b", re.IGNORECASE)
_WHOLE_ENTITY = re.compile(r"&(?:amp|lt|gt);")

# Words users and attackers type: options (phones turn -- into dashes), values, mentions,
# commands, markup, and characters that render as nothing or turn text around.
VOCABULARY = (
    "--ar", "—ar", "–ar", "--AR", "--provider", "—provider", "--style", "--res", "--x_1",
    "--", "—", "-", "---ar", "--1ar", "16:9", "1:1", "GPTunnel", "codexaeternum", "anime",
    "/describe", f"/describe@{BOT}", f"@{BOT}", f"@{BOT.upper()}", f"@{BOT}x", f"@{BOT}_2",
    "@other_bot", "/imagine", "<b>", "</i>", '<a href="tg://user?id=1">', "&amp;", "&", "*bold*",
    "_x_", "\u200b", "\u200d", "\u202e", "\u2060", "\ufeff", "صورة", "👩‍👩‍👧", "\x00", "{0}", "%s",
)  # fmt: skip
SEPARATORS = (" ", "  ", "\n", "\t", "\u00a0", "\u3000", "")

words = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6))
typed = st.builds(
    "".join,
    st.lists(st.tuples(words, st.sampled_from(SEPARATORS)).map("".join), max_size=12),
)
"""Text made of the vocabulary and random bits, as a user might type it."""
user_text = st.one_of(st.text(), typed)


def outcome(raw: str) -> ParsedText | OptionSyntaxError:
    """What parse_options makes of a text: the parsed text, or the error it raised."""
    try:
        return parse_options(raw)
    except OptionSyntaxError as e:
        return e


def render(parsed: ParsedText) -> str:
    """The text a user would type to get `parsed` again."""
    options = dict(parsed.options)
    if parsed.provider is not None:
        options["provider"] = parsed.provider
    return " ".join([parsed.text, *(f"--{name} {value}" for name, value in options.items())])


@DETERMINISTIC
@given(user_text)
def test_any_text_parses_or_raises_option_syntax_error(raw: str) -> None:
    parsed = outcome(raw)
    if isinstance(parsed, OptionSyntaxError):
        assert parsed.problem in (MISSING_VALUE, CONFLICT)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", parsed.option)
        with ENGLISH.context():
            told = option_error_text(parsed)
        visible, _ = parse_html(told)  # what the user is told is valid Telegram HTML
        assert f"--{parsed.option}" in visible
        return
    assert parsed.text == " ".join(parsed.text.split())
    assert not any(_OPTION_TOKEN.match(word) for word in parsed.text.split())
    assert "provider" not in parsed.options
    for name, value in parsed.options.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
        assert value == value.lower()
        assert value and not value.isspace()
    assert parse_options(render(parsed)) == parsed  # what was understood is stable


def test_repeated_options_are_fine_and_contradictions_are_refused() -> None:
    assert parse_options("a fox --ar 16:9 —AR 16:9").options == {"ar": "16:9"}
    for raw in ("a fox --ar 1:1 --ar 16:9", "--provider gptunnel x --provider ailuna"):
        error = outcome(raw)
        assert isinstance(error, OptionSyntaxError), raw
        assert error.problem == CONFLICT


@DETERMINISTIC
@given(user_text)
def test_caption_question_in_private_is_always_a_clean_question(caption: str) -> None:
    question = caption_question(caption, username=BOT, private=True)
    assert question is not None
    assert question == " ".join(question.split())
    assert _MENTION.search(question) is None
    assert not question.lower().startswith((f"/describe@{BOT} ", f"/describe@{BOT}\n"))
    outcome(question)  # parses, or an OptionSyntaxError the user gets a usage reply for


@DETERMINISTIC
@given(user_text, user_text)
def test_caption_question_in_groups_only_when_addressed(before: str, after: str) -> None:
    for caption in (before, f"{before} @{BOT} {after}", f"/describe {after}"):
        private = caption_question(caption, username=BOT, private=True)
        in_group = caption_question(caption, username=BOT, private=False)
        assert in_group is None or in_group == private
    assert caption_question(f"{before} @{BOT} {after}", username=BOT, private=False) is not None
    assert caption_question(f"/describe {after}", username=BOT, private=False) is not None
    unaddressed = before.replace("@", "").replace("/", "")
    assert caption_question(unaddressed, username=BOT, private=False) is None


def test_caption_question_examples() -> None:
    cases = [
        (f"/describe@{BOT} what is it?", False, "what is it?"),
        ("/DESCRIBE  what\n is  it?", False, "what is it?"),
        (f"hey @{BOT.upper()}, count them", False, "hey , count them"),
        (f"@{BOT}x is not me", False, None),
        (f"@{BOT}x is not me", True, f"@{BOT}x is not me"),
        ("/describe@other_bot hi", False, None),
        ("", True, ""),
    ]
    for caption, private, expected in cases:
        assert caption_question(caption, username=BOT, private=private) == expected, caption


def unescaped(text: str) -> str:
    """Visible text of escaped HTML, checked by the fake Bot API's parser."""
    visible, entities = parse_html(text)
    assert entities == ()
    return visible


def has_broken_entity(text: str) -> bool:
    """An "&" that does not start a whole &amp; &lt; or &gt;: a cut through an entity."""
    return "&" in _WHOLE_ENTITY.sub("", text)


@DETERMINISTIC
@given(st.text())
def test_escape_parses_as_telegram_html_and_round_trips(text: str) -> None:
    escaped = escape(text)
    assert parse_html(escaped) == (text, ())
    assert html.unescape(escaped) == text


PIECES = (
    "&", "<", ">", "&amp;", " ", "  ", ".", ". ", "! ", "? ", "。", "！", "\n", "\n\n", "word",
    "ｗｉｄｅ", "😀", "👩‍👩‍👧", "\u200b", "x" * 30,
)  # fmt: skip
pieces = st.one_of(st.sampled_from(PIECES), st.text(max_size=12))


def texts_with_markup(*, min_pieces: int, max_pieces: int) -> st.SearchStrategy[str]:
    """Raw text full of what HTML escaping turns into entities, and of the places to cut."""
    return st.lists(pieces, min_size=min_pieces, max_size=max_pieces).map("".join)


@DETERMINISTIC
@given(texts_with_markup(min_pieces=10, max_pieces=300), st.integers(min_value=10, max_value=200))
def test_split_text_parts_fit_rejoin_and_keep_entities_whole(raw: str, limit: int) -> None:
    text = escape(raw)
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    assert not any(has_broken_entity(part) for part in parts)
    # The parts are the text in order, only whitespace left out where it was cut.
    rest = text.strip()
    for part in parts:
        assert rest.startswith(part)
        rest = rest[len(part) :].lstrip()
    assert rest == ""
    visible = "".join(unescaped(part) for part in parts)
    assert "".join(visible.split()) == "".join(raw.split())


@DETERMINISTIC
@given(texts_with_markup(min_pieces=20, max_pieces=200))
def test_split_text_at_telegram_limit(raw: str) -> None:
    text = escape(raw * (9000 // (len(raw) + 1) + 1))  # two to four messages' worth
    parts = split_text(text)
    assert all(len(part) <= 4096 for part in parts)
    assert not any(has_broken_entity(part) for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@DETERMINISTIC
@given(texts_with_markup(min_pieces=0, max_pieces=100), st.integers(min_value=0, max_value=300))
def test_shorten_never_exceeds_its_limit_nor_breaks_an_entity(raw: str, limit: int) -> None:
    text = escape(raw)
    short = shorten(text, limit)
    assert len(short) <= limit
    assert not has_broken_entity(short)
    if len(text) <= limit:
        assert short == text
        return
    if short:
        assert short.endswith(ELLIPSIS)
        assert text.startswith(short[: -len(ELLIPSIS)])
        assert unescaped(short)  # a valid Telegram caption


def test_shorten_edge_limits() -> None:
    assert shorten("abc", 0) == ""
    assert shorten("abc", 1) == ELLIPSIS
    assert shorten("a &amp; b", 4) == "a…"


def test_blank_means_nothing_visible() -> None:
    for blank in ("", " \n\t", "\u200b\u200c\u200d\u2060\ufeff", "\u202e\u202c", "\x00\x07"):
        assert is_blank(blank), repr(blank)
    for shown in ("a", "👩‍👩‍👧", "صورة", "\u200bx", "·"):
        assert not is_blank(shown), repr(shown)
