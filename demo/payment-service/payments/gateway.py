"""Client for the card acquirer.

The demo ships an in-memory acquirer with the production contract: idempotent by
key, transient failures raise GatewayError, issuer refusals raise PaymentDeclined.
"""

import logging
import time
import zlib

from payments.models import Charge

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0  # EU acquirer p99 is ~6 s at peak; 5 s caused spurious retries
MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 0.05


class GatewayError(Exception):
    """A transient failure (timeout, 5xx). Safe to retry with the same idempotency key."""


class PaymentDeclined(Exception):
    """The issuer said no. Never retried."""


class Gateway:
    """Deterministic in-memory acquirer, idempotent by key."""

    def __init__(self, timeout_s=DEFAULT_TIMEOUT_S, sleep=time.sleep, flaky_tokens=()):
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._failures_left = dict.fromkeys(flaky_tokens, 1)
        self._by_key = {}
        self.charges = []
        self.attempts = 0

    def charge(self, card_token, amount_cents, currency, idempotency_key):
        """Charge a card, retrying transient errors with exponential backoff."""
        last_error = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._charge_once(card_token, amount_cents, currency, idempotency_key)
            except GatewayError as exc:
                last_error = exc
                logger.warning("acquirer attempt %d/%d failed: %s", attempt, MAX_ATTEMPTS, exc)
                if attempt < MAX_ATTEMPTS:
                    self._sleep(BACKOFF_BASE_S * 2 ** (attempt - 1))
        raise GatewayError(f"gave up after {MAX_ATTEMPTS} attempts: {last_error}")

    def _charge_once(self, card_token, amount_cents, currency, idempotency_key):
        self.attempts += 1
        if idempotency_key in self._by_key:
            return self._by_key[idempotency_key]
        if self._failures_left.get(card_token, 0) > 0:
            self._failures_left[card_token] -= 1
            raise GatewayError(f"acquirer timed out after {self.timeout_s:.0f} s")
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
