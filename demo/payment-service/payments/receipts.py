"""E-mail receipts. Messages go to an outbox that the mailer drains asynchronously."""

import logging

logger = logging.getLogger(__name__)

_OUTBOX = []


def send_receipt(email, charge_id):
    """Queue a receipt for `charge_id` to `email`; returns the message id."""
    if "@" not in email:
        raise ValueError(f"not an e-mail address: {email!r}")
    message_id = f"rcpt-{charge_id}"
    _OUTBOX.append({"to": email, "charge_id": charge_id, "message_id": message_id})
    logger.info("receipt %s queued for %s", message_id, email)
    return message_id


def outbox():
    """Messages queued so far (a copy, so callers cannot drop mail by accident)."""
    return list(_OUTBOX)


def clear_outbox():
    """Forget queued messages; used by the tests and by the probe."""
    _OUTBOX.clear()
