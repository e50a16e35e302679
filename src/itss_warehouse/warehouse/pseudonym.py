"""The warehouse's pseudonym key: marts meant for BI name people only by a keyed hash
(HMAC-SHA256, dbt macro ``pseudonym``) so analysts can count and group by person without
learning who it is.

The key is made once per warehouse, at random, and never leaves it: it is kept in
``raw.pseudonym_key``, which only the loader and transformer roles read. It is stored as
HMAC's inner and outer padded keys, so SQL computes a standard HMAC with ``sha256()`` alone
(no pgcrypto extension needed).
"""

from __future__ import annotations

import secrets

import psycopg

BLOCK_SIZE = 64  # SHA-256's block: HMAC pads the key to this length


def pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104) for a key of at most one block."""
    padded = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(byte ^ 0x36 for byte in padded), bytes(byte ^ 0x5C for byte in padded)


def ensure_key(conn: psycopg.Connection) -> None:
    """Make the warehouse's key unless it has one (a new key would change every pseudonym);
    its table is created with the other raw tables (``warehouse.raw``)."""
    inner, outer = pads(secrets.token_bytes(BLOCK_SIZE))
    conn.execute(
        "insert into raw.pseudonym_key (inner_pad, outer_pad) values (%s, %s) on conflict do nothing", (inner, outer)
    )
