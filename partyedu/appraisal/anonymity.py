"""Anonymous ballots and peer comments, and what the anonymity does and does not protect.

Threat model. The democratic vote (民主测评) and the peer comments (党员互评) must be anonymous to
everyone who uses the platform — the branch secretary and the level above included — while each
voter may replace their own ballot until the vote closes, and one ballot per voter must hold.

- A ballot is stored as a ``BallotReceipt`` (voter, when) and ``Vote`` rows (appraisee, grade,
  ``ballot_key``) without the voter. ``ballot_key`` is
  HMAC-SHA256(SECRET_KEY, "appraisal:<appraisal id>:voter:<member id>") in hex: the voter's own
  request can recompute it to delete and replace their rows, and a reader of the tables (a
  database administrator, a backup, an export) cannot join a ``Vote`` to a receipt or to a member
  without the secret key. Peer comments use the same construction with "commenter".
- ``Vote`` and ``PeerComment`` rows have random (UUID) ids and no timestamps, so their order of
  writing cannot be matched with the receipts' times or the audit log (which records "ballot
  submitted" with the appraisal only). No page or API shows a vote or a comment with its author;
  tallies are counts per grade, shown only after the vote closed.

Limits (stated in docs/appraisal.md). Anyone who holds SECRET_KEY *and* reads the database can
recompute every voter's key and link each ballot to its voter: the key is as secret as the
deployment's secret. The database's physical row order, its write-ahead log and its replicas are
outside this protection. In a very small branch, or when a tally is unanimous, the counts
themselves may reveal how people voted; that is the nature of any published tally.

Rotating SECRET_KEY during an open vote is handled through ``SECRET_KEY_FALLBACKS``: a replaced
ballot removes the rows under the current key and every fallback key, so it never adds to an old
ballot."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def _keys() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def ballot_key(appraisal_id: int, member_id: int) -> str:
    """The key of a voter's ballot in an appraisal, under the current secret key."""
    return _hmac(settings.SECRET_KEY, f"appraisal:{appraisal_id}:voter:{member_id}")


def ballot_keys(appraisal_id: int, member_id: int) -> list[str]:
    """The voter's ballot key under the current and every fallback secret key."""
    return [_hmac(secret, f"appraisal:{appraisal_id}:voter:{member_id}") for secret in _keys()]


def comment_key(appraisal_id: int, member_id: int) -> str:
    """The key of a participant's peer comments in an appraisal, under the current secret key."""
    return _hmac(settings.SECRET_KEY, f"appraisal:{appraisal_id}:commenter:{member_id}")


def comment_keys(appraisal_id: int, member_id: int) -> list[str]:
    return [_hmac(secret, f"appraisal:{appraisal_id}:commenter:{member_id}") for secret in _keys()]
