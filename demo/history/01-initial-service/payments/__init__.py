"""Payment service package: card charges through the acquirer, e-mail receipts."""
