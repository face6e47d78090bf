"""Unit tests for the payment service (stdlib unittest, no network)."""
