"""A throwaway RSA key for DKIM tests, made here in pure Python (nothing to install): a PEM
private key dkimpy signs with, and the `p=` of the DNS record a verifier looks up."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


def _is_probable_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):  # Miller-Rabin
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        # the top two bits set, so that the product of two has exactly 2 * bits bits
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if _is_probable_prime(candidate, rng):
            return candidate


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # a leading 0 keeps it positive
    return b"\x02" + _der_length(len(raw)) + raw


def _der_sequence(*items: bytes) -> bytes:
    content = b"".join(items)
    return b"\x30" + _der_length(len(content)) + content


@dataclass(frozen=True)
class RsaKey:
    private_pem: bytes
    public_der: bytes

    @property
    def dns_record(self) -> bytes:
        """The TXT record of `selector._domainkey.domain`."""
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(self.public_der)


def make_rsa_key(bits: int = 1024, seed: int = 2015) -> RsaKey:
    """A deterministic key of `bits` bits (dkimpy refuses keys under 1024 bits)."""
    rng = random.Random(seed)
    e = 65537
    while True:
        p, q = _prime(bits // 2, rng), _prime(bits // 2, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    n, d = p * q, pow(e, -1, phi)
    assert n.bit_length() == bits
    private = _der_sequence(
        *map(_der_int, (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)))
    )
    body = base64.b64encode(private).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *lines, "-----END RSA PRIVATE KEY-----"])
    return RsaKey((pem + "\n").encode(), _der_sequence(_der_int(n), _der_int(e)))
