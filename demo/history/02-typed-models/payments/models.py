"""Plain data types shared by the processor, the gateway client and the tests."""

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class User:
    """A customer. Guest checkouts have no e-mail address on file."""

    id: str
    email: Optional[str] = None
    name: str = ""

    @property
    def is_guest(self) -> bool:
        return self.email is None


@dataclass(frozen=True)
class PaymentRequest:
    """What the storefront asks us to charge."""

    order_id: str
    amount_cents: int
    currency: str
    card_token: str
    idempotency_key: Optional[str] = None


@dataclass(frozen=True)
class Charge:
    """A successful charge as the acquirer reports it."""

    id: str
    amount_cents: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class PaymentResult:
    """What the storefront gets back: "charged" or "declined"."""

    status: str
    charge_id: Optional[str] = None
    reason: Optional[str] = None
