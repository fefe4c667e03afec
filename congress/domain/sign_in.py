"""Sign-in throttling as a rule: from the failures so far, how long before the next attempt.

Found in issue 18: five wrong codes from anywhere locked the real delegate (and `admin`) out, and
30 typos by 30 delegates behind one address (a company's NAT: the venue) locked out everyone there.
Now no one can be locked out by someone else, and no one waits long for their own mistakes:

- **Per account and address** (a *pair*): the first PAIR_FREE failures are free, then the pair waits
  1, 2, 4 … seconds after its last failure, at most 5 minutes. Someone guessing from elsewhere is
  another pair, so they never hold back the real person at the venue.
- **Per account, every address** (guessing spread over many addresses): once an account has had
  ACCOUNT_FREE failures within the hour, every pair that has failed on it waits at least 1, 2, 4 …
  seconds (at most 30) after *its own* last failure. Counted from the pair's own failure, so guessing
  elsewhere cannot prolong it, and an address that has not failed is never held back: it slows, it
  never locks.
- **Per address, every account** (one address spraying guesses over many accounts): only when the
  address has failures on at least ADDRESS_FREE_ACCOUNTS accounts *and* ADDRESS_FREE_FAILURES
  failures in 15 minutes (a sign-in takes its pair's failures out of the count) does everyone there
  wait, 1, 2, 4 … seconds (at most a minute) after the address's last failure. 300 delegates behind
  one NAT, 20 of them mistyping up to six times, are 20 accounts: far below it.

A correct code signs in whenever the waits are over; an attempt during a wait is refused unchecked
and not counted, so hammering does not make a wait longer. Codes are 8 of 31 symbols (~40 bits) and
staff passwords 96 bits: the waits keep online guessing hopeless; they are not the only defence.

Pure functions only: the history comes in as counts and times (congress.db.sign_in_waits reads them).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    pair_free: int = 3  # failures of one account from one address before any wait
    pair_cap: int = 300  # seconds: the longest a pair ever waits
    pair_window: timedelta = timedelta(hours=1)
    account_free: int = 10  # failures of one account, every address together, before the account guard
    account_cap: int = 30  # short: the real person, after their own typo, waits at most this long
    account_window: timedelta = timedelta(hours=1)
    address_free_accounts: int = 30  # distinct accounts failing from one address …
    address_free_failures: int = 60  # … and failures from it, before everyone there waits
    address_step: int = 5  # the address's wait doubles every this many further failures
    address_cap: int = 60
    address_window: timedelta = timedelta(minutes=15)

    @property
    def longest_window(self) -> timedelta:
        return max(self.pair_window, self.account_window, self.address_window)


POLICY = SignInPolicy()


@dataclass(frozen=True, slots=True)
class Failures:
    """Failures within a window: how many, and when the last one was."""

    count: int = 0
    last: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddressFailures:
    count: int = 0  # failures from the address (within its window)
    accounts: int = 0  # distinct accounts among them
    last: datetime | None = None


def doubling(excess: int, cap: int) -> int:
    """No wait without excess, then 1, 2, 4 … seconds, at most `cap`."""
    if excess <= 0:
        return 0
    return min(cap, int(2 ** min(excess - 1, 30)))


def pair_delay(policy: SignInPolicy, pair_failures: int, account_failures: int) -> int:
    """Seconds a pair waits after its own last failure; nothing before it has failed at all."""
    if pair_failures <= 0:
        return 0
    return max(doubling(pair_failures - policy.pair_free, policy.pair_cap),
               doubling(account_failures - policy.account_free, policy.account_cap))


def address_delay(policy: SignInPolicy, failures: int, accounts: int) -> int:
    """Seconds everyone at an address waits after its last failure: only when it sprays many accounts."""
    excess = min(accounts - policy.address_free_accounts, failures - policy.address_free_failures)
    if excess < 0:
        return 0
    return doubling(excess // policy.address_step + 1, policy.address_cap)


def _left(delay: int, last: datetime | None, now: datetime) -> float:
    if delay <= 0 or last is None:
        return 0.0
    return max(0.0, (last + timedelta(seconds=delay) - now).total_seconds())


def pair_wait(policy: SignInPolicy, pair: Failures, account_failures: int, now: datetime) -> float:
    """Seconds left before this account may be tried again from this address (its own guards)."""
    return _left(pair_delay(policy, pair.count, account_failures), pair.last, now)


def address_wait(policy: SignInPolicy, address: AddressFailures, now: datetime) -> float:
    """Seconds left before anyone at this address may try again (0 unless it sprays accounts)."""
    return _left(address_delay(policy, address.count, address.accounts), address.last, now)


def wait_before_next(policy: SignInPolicy, pair: Failures, account_failures: int, address: AddressFailures,
                     now: datetime) -> float:
    """Seconds before the next attempt on this account from this address: 0 means try now."""
    return max(pair_wait(policy, pair, account_failures, now), address_wait(policy, address, now))


def retry_after(seconds: float) -> int:
    """Whole seconds to tell people (and the Retry-After header): at least 1."""
    return max(1, math.ceil(seconds))


_UNSAFE = re.compile(r"[^0-9A-Za-z.:_/-]")


def address_of(host: str | None) -> str:
    """The address a failure is counted against. IPv6 by its /64 (one household or phone gets a
    whole /64, so single addresses would let one guesser be millions of addresses); IPv4-mapped
    IPv6 as IPv4; anything else (a test client's name) kept as safe text; none at all as "-"."""
    text = (host or "").strip()
    try:
        if "/" in text:  # as the staff page shows an IPv6 address: its /64
            network = ipaddress.ip_network(text, strict=False)
            if network.version == 6 and network.prefixlen > 64:
                network = network.supernet(new_prefix=64)
            return str(network.network_address) if network.num_addresses == 1 else str(network)
        ip = ipaddress.ip_address(text)
    except ValueError:
        return _UNSAFE.sub("", text)[:64] or "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
