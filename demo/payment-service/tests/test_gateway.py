"""Unit tests for payments.gateway (retries, idempotency, declines)."""

import unittest

from payments.gateway import MAX_ATTEMPTS, Gateway, GatewayError, PaymentDeclined


class GatewayTest(unittest.TestCase):
    def setUp(self):
        self.sleeps = []
        self.gateway = Gateway(sleep=self.sleeps.append, flaky_tokens=("tok_flaky",))

    def test_transient_error_is_retried_with_backoff(self):
        with self.assertLogs("payments.gateway", level="WARNING") as logs:
            charge = self.gateway.charge("tok_flaky", 1000, "EUR", "key-1")
        self.assertIn("attempt 1/3 failed", logs.output[0])
        self.assertEqual(charge.amount_cents, 1000)
        self.assertEqual(self.gateway.attempts, 2)
        self.assertEqual(self.sleeps, [0.05])

    def test_same_key_returns_same_charge(self):
        first = self.gateway.charge("tok_visa", 1000, "EUR", "key-2")
        second = self.gateway.charge("tok_visa", 1000, "EUR", "key-2")
        self.assertEqual(first, second)
        self.assertEqual(len(self.gateway.charges), 1)

    def test_decline_is_not_retried(self):
        with self.assertRaises(PaymentDeclined):
            self.gateway.charge("tok_declined_1", 1000, "EUR", "key-3")
        self.assertEqual(self.gateway.attempts, 1)

    def test_gives_up_after_max_attempts(self):
        gateway = Gateway(sleep=lambda _s: None, flaky_tokens=())
        gateway._failures_left["tok_down"] = MAX_ATTEMPTS
        with self.assertRaises(GatewayError), self.assertLogs("payments.gateway", level="WARNING"):
            gateway.charge("tok_down", 1000, "EUR", "key-4")
        self.assertEqual(gateway.attempts, MAX_ATTEMPTS)


if __name__ == "__main__":
    unittest.main()
