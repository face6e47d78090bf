"""Payment processing: validate a request, charge the card, e-mail the receipt."""

import logging

from payments.gateway import Gateway, PaymentDeclined
from payments.models import PaymentRequest, PaymentResult, User
from payments.receipts import send_receipt

logger = logging.getLogger(__name__)

MAX_AMOUNT_CENTS = 1_000_000
SUPPORTED_CURRENCIES = frozenset({"EUR", "GBP", "USD"})


def idempotency_key(user: User, request: PaymentRequest) -> str:
    """Stable key so that a retried request never charges the card twice."""
    if request.idempotency_key:
        return request.idempotency_key
    return f"{user.id}:{request.order_id}:{request.amount_cents}"


def validate(request: PaymentRequest) -> None:
    """Reject what the acquirer would refuse anyway, before any money moves."""
    if request.amount_cents <= 0:
        raise ValueError(f"amount must be positive, got {request.amount_cents}")
    if request.amount_cents > MAX_AMOUNT_CENTS:
        raise ValueError(f"amount {request.amount_cents} exceeds {MAX_AMOUNT_CENTS}")
    if request.currency not in SUPPORTED_CURRENCIES:
        raise ValueError(f"unsupported currency {request.currency!r}")


def process_payment(user: User, request: PaymentRequest, gateway: Gateway) -> PaymentResult:
    """Charge `user` for `request`, then e-mail them a receipt."""
    validate(request)
    key = idempotency_key(user, request)
    logger.info("charging order %s (%d %s) for user %s",
                request.order_id, request.amount_cents, request.currency, user.id)
    try:
        charge = gateway.charge(request.card_token, request.amount_cents, request.currency, key)
    except PaymentDeclined as exc:
        logger.info("order %s declined: %s", request.order_id, exc)
        return PaymentResult(status="declined", reason=str(exc))

    logger.info("order %s charged as %s", request.order_id, charge.id)
    send_receipt(user.email.strip().lower(), charge.id)
    return PaymentResult(status="charged", charge_id=charge.id)
