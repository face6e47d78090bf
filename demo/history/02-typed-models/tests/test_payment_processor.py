"""Unit tests for payments.payment_processor."""

import unittest

from payments.gateway import Gateway
from payments.models import PaymentRequest, User
from payments.payment_processor import idempotency_key, process_payment


def make_request(**overrides):
    fields = dict(order_id="ord-1001", amount_cents=2599, currency="EUR", card_token="tok_visa_4242")
    fields.update(overrides)
    return PaymentRequest(**fields)


class ProcessPaymentTest(unittest.TestCase):
    def setUp(self):
        self.gateway = Gateway()

    def test_successful_payment_is_charged(self):
        user = User(id="u-1", email="ana.souza@example.com")
        result = process_payment(user, make_request(), self.gateway)
        self.assertEqual(result.status, "charged")
        self.assertEqual(len(self.gateway.charges), 1)
        self.assertEqual(self.gateway.charges[0].amount_cents, 2599)

    def test_declined_card_is_not_an_error(self):
        user = User(id="u-3", email="chen.wei@example.com")
        result = process_payment(user, make_request(card_token="tok_declined_0002"), self.gateway)
        self.assertEqual(result.status, "declined")
        self.assertIsNone(result.charge_id)
        self.assertEqual(self.gateway.charges, [])

    def test_retry_with_same_key_charges_once(self):
        user = User(id="u-4", email="dana.okafor@example.com")
        first = process_payment(user, make_request(), self.gateway)
        second = process_payment(user, make_request(), self.gateway)
        self.assertEqual(first.charge_id, second.charge_id)
        self.assertEqual(len(self.gateway.charges), 1)

    def test_invalid_amount_is_rejected_before_charging(self):
        user = User(id="u-5", email="erik.johansson@example.com")
        with self.assertRaises(ValueError):
            process_payment(user, make_request(amount_cents=0), self.gateway)
        self.assertEqual(self.gateway.charges, [])

    def test_unsupported_currency_is_rejected(self):
        user = User(id="u-6", email="farah.haddad@example.com")
        with self.assertRaises(ValueError):
            process_payment(user, make_request(currency="XTS"), self.gateway)
        self.assertEqual(self.gateway.attempts, 0)

    def test_explicit_idempotency_key_wins(self):
        user = User(id="u-7", email="ana.souza@example.com")
        request = make_request(idempotency_key="client-key-1")
        self.assertEqual(idempotency_key(user, request), "client-key-1")

    def test_process_payment_without_email(self):
        guest = User(id="guest-7", email=None)
        result = process_payment(guest, make_request(order_id="ord-2002"), self.gateway)
        self.assertEqual(result.status, "charged")
        self.assertEqual(len(self.gateway.charges), 1)


if __name__ == "__main__":
    unittest.main()
