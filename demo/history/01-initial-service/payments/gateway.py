"""Client for the card acquirer.

The demo ships an in-memory acquirer with the production contract: idempotent by
key, issuer refusals raise PaymentDeclined.
"""

import collections
import zlib

DEFAULT_TIMEOUT_S = 5.0

Charge = collections.namedtuple("Charge", "id amount_cents currency idempotency_key")


class PaymentDeclined(Exception):
    """The issuer said no. Never retried."""


class Gateway:
    """Deterministic in-memory acquirer, idempotent by key."""

    def __init__(self, timeout_s=DEFAULT_TIMEOUT_S):
        self.timeout_s = timeout_s
        self._by_key = {}
        self.charges = []
        self.attempts = 0

    def charge(self, card_token, amount_cents, currency, idempotency_key):
        """Charge a card once; the same idempotency key always returns the same charge."""
        self.attempts += 1
        if idempotency_key in self._by_key:
            return self._by_key[idempotency_key]
        if card_token.startswith("tok_declined"):
            raise PaymentDeclined("insufficient funds")
        charge = Charge(
            id="ch_%08x" % zlib.crc32(idempotency_key.encode("utf-8")),
            amount_cents=amount_cents,
            currency=currency,
            idempotency_key=idempotency_key,
        )
        self._by_key[idempotency_key] = charge
        self.charges.append(charge)
        return charge
