#!/usr/bin/env python3
"""Replay a deterministic corpus of payment requests through process_payment.

Used for load tests and canary checks: prints ONE JSON object on stdout with the
error rate, so that two builds can be compared on exactly the same traffic.

    python3 probe.py [--requests N] [--seed S]
"""

import argparse
import collections
import json
import logging
import random
import sys
import traceback

from payments.gateway import Gateway
from payments.models import PaymentRequest, User
from payments.payment_processor import process_payment

GUEST_SHARE = 0.15  # guest checkout: no e-mail address on file
TAGGED_SHARE = 0.30  # sub-addressed e-mails such as ana+shop@example.com
DECLINED_SHARE = 0.02
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")
NAMES = ("ana", "bruno", "chen", "dana", "erik", "farah", "goran", "hana", "ivan", "jun")
DOMAINS = ("example.com", "example.org", "mail.example.net")
TAGS = ("shop", "orders", "receipts", "promo")


def make_email(rng, kind, index):
    """An address of the given kind; plain ones sometimes carry stray case and spaces."""
    name = rng.choice(NAMES)
    domain = rng.choice(DOMAINS)
    if kind == "guest":
        return None
    if kind == "tagged":
        return f"{name}+{rng.choice(TAGS)}@{domain}"
    email = f"{name}.{index}@{domain}"
    return f" {email.title()}" if rng.random() < 0.1 else email


def build_corpus(requests, seed):
    """Exact shares (shuffled), so the expected error rates do not depend on the seed."""
    rng = random.Random(seed)
    guests = round(requests * GUEST_SHARE)
    tagged = round(requests * TAGGED_SHARE)
    kinds = ["guest"] * guests + ["tagged"] * tagged + ["plain"] * (requests - guests - tagged)
    rng.shuffle(kinds)
    corpus = []
    for index, kind in enumerate(kinds):
        user = User(id=f"u-{index:05d}", email=make_email(rng, kind, index))
        declined = rng.random() < DECLINED_SHARE
        token = f"tok_declined_{index:05d}" if declined else f"tok_visa_{rng.randrange(10000):04d}"
        request = PaymentRequest(
            order_id=f"ord-{seed}-{index:05d}",
            amount_cents=rng.randint(199, 250_000),
            currency=rng.choice(CURRENCIES),
            card_token=token,
        )
        corpus.append((user, request))
    return corpus


def replay(corpus):
    """Run every request; count uncaught exceptions by type and keep the first traceback."""
    gateway = Gateway(sleep=lambda _seconds: None)
    error_types = collections.Counter()
    sample_traceback = None
    for user, request in corpus:
        try:
            process_payment(user, request, gateway)
        except Exception as exc:  # the probe measures every failure, whatever its type
            error_types[type(exc).__name__] += 1
            if sample_traceback is None:
                sample_traceback = traceback.format_exc()
    return error_types, sample_traceback


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default 7)")
    args = parser.parse_args(argv)
    if args.requests <= 0:
        parser.error("--requests must be a positive integer")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    error_types, sample_traceback = replay(build_corpus(args.requests, args.seed))
    errors = sum(error_types.values())
    report = {
        "total": args.requests,
        "errors": errors,
        "error_rate": errors / args.requests,
        "error_types": dict(sorted(error_types.items())),
        "sample_traceback": sample_traceback,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
