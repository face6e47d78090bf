"""Unit tests for payments.receipts."""

import unittest

from payments import receipts


class ReceiptsTest(unittest.TestCase):
    def setUp(self):
        receipts.clear_outbox()

    def test_receipt_is_queued(self):
        message_id = receipts.send_receipt("ana.souza@example.com", "ch_1")
        self.assertEqual(message_id, "rcpt-ch_1")
        self.assertEqual(receipts.outbox()[0]["to"], "ana.souza@example.com")

    def test_rejects_what_is_not_an_address(self):
        with self.assertRaises(ValueError):
            receipts.send_receipt("not-an-address", "ch_2")
        self.assertEqual(receipts.outbox(), [])


if __name__ == "__main__":
    unittest.main()
