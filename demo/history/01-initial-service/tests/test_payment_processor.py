"""Unit tests for payments.payment_processor."""

import unittest

from payments.gateway import Gateway
from payments.payment_processor import process_payment


def make_request(**overrides):
    fields = dict(order_id="ord-1001", amount_cents=2599, currency="EUR", card_token="tok_visa_4242")
    fields.update(overrides)
    return fields


class ProcessPaymentTest(unittest.TestCase):
    def setUp(self):
        self.gateway = Gateway()

    def test_successful_payment_is_charged(self):
        result = process_payment({"id": "u-1"}, make_request(), self.gateway)
        self.assertEqual(result["status"], "charged")
        self.assertEqual(len(self.gateway.charges), 1)

    def test_declined_card_is_not_an_error(self):
        result = process_payment({"id": "u-3"}, make_request(card_token="tok_declined_0002"), self.gateway)
        self.assertEqual(result["status"], "declined")
        self.assertEqual(self.gateway.charges, [])

    def test_invalid_amount_is_rejected_before_charging(self):
        with self.assertRaises(ValueError):
            process_payment({"id": "u-5"}, make_request(amount_cents=0), self.gateway)
        self.assertEqual(self.gateway.charges, [])


if __name__ == "__main__":
    unittest.main()
