"""The words of inline mode's results and messages, in the user's language."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.utils.i18n import gettext as _

from bot.formatting import escape
from bot.providers import display_name


def options_line(provider: str, options: Mapping[str, str]) -> str:
    """Provider and options, as a result's description shows them."""
    typed = " ".join(f"--{name} {value}" for name, value in sorted(options.items()))
    return " · ".join(filter(None, [display_name(provider), typed]))


def generate_title(provider: str) -> str:
    """A "Generate" result's title."""
    return _("🎨 Generate with {provider}").format(provider=display_name(provider))


def ready_text(prompt: str, provider: str, options: Mapping[str, str]) -> str:
    """The message a chosen "Generate" result posts, before the job starts."""
    return "\n".join(
        [
            f"🎨 <i>{escape(prompt)}</i>",
            escape(options_line(provider, options)),
            "",
            _("Tap ▶️ to start."),
        ]
    )


def start_button() -> str:
    """The ▶️ button's text."""
    return _("▶️ Generate")


def mistake_title() -> str:
    """The title of a result that explains an option mistake."""
    return _("⚠️ Check the options")


def keys_button() -> str:
    """The results' button for a user with no key."""
    return _("🔑 Add a key to generate images")


def expired_text() -> str:
    """A ▶️ press whose request the bot no longer keeps (it restarted meanwhile)."""
    return _("This request has expired. Type it again after @ and my name.")


def not_yours_text() -> str:
    """A press on someone else's inline request."""
    return _("Only the person who sent this request can start it.")


def started_text() -> str:
    """A second press (or a press after the chosen result started the job)."""
    return _("Already started.")


def no_key_text(provider: str) -> str:
    """The key the request needs is gone (removed since the query)."""
    return _("You have no {provider} key any more. Add one in private chat:").format(
        provider=display_name(provider)
    )
