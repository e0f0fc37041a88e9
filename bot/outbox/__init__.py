"""One paced outbox for every Bot API call that sends or changes a message.

Telegram takes about 30 messages a second from a bot, about one a second in a private chat
(short bursts pass) and 20 a minute in a group, and answers 429 beyond. The outbox is a session
middleware, so no call can go around it.
"""

from bot.outbox.outbox import Outbox
from bot.outbox.rules import COUNTED_METHODS, Pacing, Priority, Superseded, sending_as

__all__ = ["COUNTED_METHODS", "Outbox", "Pacing", "Priority", "Superseded", "sending_as"]
