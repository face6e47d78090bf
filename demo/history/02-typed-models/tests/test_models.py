"""Unit tests for payments.models."""

import dataclasses
import unittest

from payments.models import PaymentRequest, PaymentResult, User


class ModelsTest(unittest.TestCase):
    def test_user_without_email_is_a_guest(self):
        self.assertTrue(User(id="guest-1").is_guest)
        self.assertFalse(User(id="u-1", email="ana.souza@example.com").is_guest)

    def test_models_are_immutable(self):
        request = PaymentRequest(order_id="o", amount_cents=1, currency="EUR", card_token="t")
        with self.assertRaises(dataclasses.FrozenInstanceError):
            request.amount_cents = 2

    def test_result_defaults(self):
        result = PaymentResult(status="declined", reason="insufficient funds")
        self.assertIsNone(result.charge_id)


if __name__ == "__main__":
    unittest.main()
