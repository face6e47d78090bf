#!/usr/bin/env python3
"""Independent verifier for ccp audit logs (Python 3 stdlib only).

It shares no code with ccp, so a log that passes here is not merely trusted
because ccp says so. The rules it checks, line by line:

    seq   starts at 0 and increases by 1 per line
    prev  is 64 zeros for seq 0, else the previous line's hash
    hash  = hex(SHA-256(prev + JCS(record without "hash")))

JCS is RFC 8785, implemented below. Integers that fit i64/u64 are printed as
integers (as ccp does); every other number uses ECMAScript Number::toString.

Usage: audit_independent_verify.py FILE
Prints "intact N" (exit 0) or "broken at seq S: <reason> (line L; ...)" (exit 1).
Exit 2 means the file could not be read at all.
"""

import hashlib
import json
import math
import sys

GENESIS = "0" * 64
MAX_DEPTH = 128  # same nesting limit as ccp's reader
STRING_FIELDS = ("ts", "actor", "type")


class Broken(Exception):
    """A bad line: the seq to report, a label shared with ccp, and details."""

    def __init__(self, seq, label, detail):
        super().__init__(detail)
        self.seq, self.label, self.detail = seq, label, detail


# ---------------------------------------------------------------- RFC 8785

def es_number(x):
    """ECMAScript Number::toString, built from repr()'s shortest digits."""
    if not math.isfinite(x):
        raise ValueError("non-finite number")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(x)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    stripped = digits.lstrip("0")
    # value = 0.DIGITS * 10**n
    n = len(int_part) + int(exp or 0) - (len(digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    e_str = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return sign + digits + "e" + e_str
    return sign + digits[0] + "." + digits[1:] + "e" + e_str


ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
           "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def es_string(s):
    out = ['"']
    for c in s:
        if c in ESCAPES:
            out.append(ESCAPES[c])
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return es_number(v)
    if isinstance(v, str):
        return es_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(i) for i in v) + "]"
    keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(es_string(k) + ":" + jcs(v[k]) for k in keys) + "}"


# ---------------------------------------------------------------- parsing

def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate member name %r" % key)
        obj[key] = value
    return obj


def int_or_float(text):
    n = int(text)
    return n if -2**63 <= n < 2**64 else finite_float(text)


def finite_float(text):
    f = float(text)
    if not math.isfinite(f):
        raise ValueError("number %s out of double range" % text)
    return f


def reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def check_tree(v, depth):
    """Same strictness as ccp: bounded nesting, no lone surrogates."""
    if isinstance(v, str):
        v.encode("utf-8")  # raises on lone surrogates
    elif isinstance(v, (list, dict)):
        if depth >= MAX_DEPTH:
            raise ValueError("nesting deeper than %d" % MAX_DEPTH)
        for key in v if isinstance(v, dict) else ():
            key.encode("utf-8")
        for item in v.values() if isinstance(v, dict) else v:
            check_tree(item, depth + 1)


def parse_object(body):
    """Parse a line body; raise ValueError (or similar) if it is no record."""
    obj = json.loads(body.decode("utf-8"), object_pairs_hook=no_duplicates,
                     parse_int=int_or_float, parse_float=finite_float,
                     parse_constant=reject_constant)
    check_tree(obj, 0)
    if not isinstance(obj, dict):
        raise ValueError("valid JSON but not an object")
    return obj


def claimed_seq(obj):
    seq = obj.get("seq")
    ok = isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
    return seq if ok else None


# ---------------------------------------------------------------- the chain

def check_record(obj, expected_seq, prev_hash):
    """Return the record's hash, or raise Broken."""
    seq = claimed_seq(obj)
    if "seq" not in obj:
        raise Broken(expected_seq, "missing field", "seq")
    if seq is None:
        raise Broken(expected_seq, "invalid field", "seq")
    for field in STRING_FIELDS + ("data", "prev", "hash"):
        if field not in obj:
            raise Broken(seq, "missing field", field)
        if field != "data" and not isinstance(obj[field], str):
            raise Broken(seq, "invalid field", field)
    if seq != expected_seq:
        raise Broken(seq, "seq out of order", "expected %d, found %d" % (expected_seq, seq))
    if obj["prev"] != prev_hash:
        raise Broken(seq, "prev mismatch", "expected %s" % prev_hash[:12])
    unhashed = {k: v for k, v in obj.items() if k != "hash"}
    preimage = (obj["prev"] + jcs(unhashed)).encode("utf-8")
    digest = hashlib.sha256(preimage).hexdigest()
    if digest != obj["hash"]:
        raise Broken(seq, "hash mismatch", "recomputed %s" % digest[:12])
    return digest


def check_line(body, terminated, expected_seq, prev_hash):
    try:
        obj = parse_object(body)
    except Exception as e:  # any parse failure makes the line unparsable
        label = "unparsable line" if terminated else "torn line"
        raise Broken(expected_seq, label, str(e)) from None
    if not terminated:
        seq = claimed_seq(obj)
        raise Broken(expected_seq if seq is None else seq, "torn line", "no trailing newline")
    return check_record(obj, expected_seq, prev_hash)


def verify(data):
    """Return (records, last_hash) or raise Broken with a .line attribute."""
    lines = data.split(b"\n")
    last_terminated = lines[-1] == b""
    if last_terminated:
        lines.pop()
    prev_hash = GENESIS
    for index, body in enumerate(lines):
        terminated = last_terminated or index < len(lines) - 1
        try:
            prev_hash = check_line(body, terminated, index, prev_hash)
        except Broken as b:
            b.line = index + 1
            raise
    return len(lines), prev_hash


def main(argv):
    if len(argv) != 2:
        print("usage: %s AUDIT_LOG" % argv[0], file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            data = f.read()
    except OSError as e:
        print("cannot read %s: %s" % (argv[1], e), file=sys.stderr)
        return 2
    try:
        records, _ = verify(data)
    except Broken as b:
        print("broken at seq %d: %s (line %d; %s)" % (b.seq, b.label, b.line, b.detail))
        return 1
    print("intact %d" % records)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
