"""How often a message may reach its receiver when the sender dies mid-send: the one rule.

SMTP has no idempotency, so a sender that dies during a handover must choose, per message,
between a possible copy and a possible loss; the choice is where the durable record goes:

- AT_LEAST_ONCE (pages and every message to a person who must act on it): the handover is
  recorded just before DATA. A message whose handover began and whose outcome was not
  recorded is sent again (counted `possibly_duplicated`): a page is never lost.
- AT_MOST_ONCE (bulletins: status page subscribers and stakeholder updates, thousands at a
  time, where a second copy to every reader in flight is the visible failure): the message
  goes out whole but for the final dot of DATA, then "committed to send" is recorded, then
  the dot. Before the record the server holds an unterminated message, which it drops, and
  the message is sent again; after it the message is never sent again (a kill leaves the
  dot to the kernel, which delivers it), and one whose reply was never read is recorded
  sent with `delivery_unconfirmed`. Lost only if the sender dies between the record and
  writing the dot (microseconds), or the server fails to keep a message whose end it got.
"""

from __future__ import annotations

import enum


class Guarantee(enum.StrEnum):
    AT_LEAST_ONCE = "at_least_once"
    AT_MOST_ONCE = "at_most_once"


# Messages written by an author for many readers (notify.service.enqueue_bulletins).
BULK_KINDS = frozenset({"bulletin"})


def guarantee(kind: str, *, bulk_at_most_once: bool) -> Guarantee:
    """The guarantee of a message of `kind` (Message.kind). `bulk_at_most_once` is the
    setting `notify_bulletins_at_most_once`: off, bulletins are at least once like pages.
    Anything not known to be bulk is at least once: a new kind never starts losing mail."""
    if kind in BULK_KINDS and bulk_at_most_once:
        return Guarantee.AT_MOST_ONCE
    return Guarantee.AT_LEAST_ONCE
