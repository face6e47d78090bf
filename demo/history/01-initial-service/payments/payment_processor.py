"""Payment processing: validate a request and charge the card."""

import logging

from payments.gateway import Gateway, PaymentDeclined

logger = logging.getLogger(__name__)

MAX_AMOUNT_CENTS = 1_000_000


def process_payment(user: dict, request: dict, gateway: Gateway) -> dict:
    """Charge `user` for `request`."""
    amount = request["amount_cents"]
    if amount <= 0 or amount > MAX_AMOUNT_CENTS:
        raise ValueError(f"invalid amount {amount}")
    key = f"{user['id']}:{request['order_id']}:{amount}"
    logger.info("charging order %s for user %s", request["order_id"], user["id"])
    try:
        charge = gateway.charge(request["card_token"], amount, request["currency"], key)
    except PaymentDeclined as exc:
        return {"status": "declined", "reason": str(exc)}
    return {"status": "charged", "charge_id": charge.id}
