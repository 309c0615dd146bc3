"""The real playing time of an uploaded audio or video file, read from the file itself with
mutagen. Progress, the 95 % completion and the hours it credits are measured against a resource's
duration, so for media it must be the file's length, not whatever was typed: a duration longer
than the file could never be completed, a shorter one would be completed early."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import mutagen

# A typed duration this far from the file's (and more than a small share of it) was a mistake
# worth telling the publisher about; a difference within it is minutes rounded by hand.
GROSS_DIFFERENCE_SECONDS = 60
GROSS_DIFFERENCE_SHARE = 0.1


def media_duration(file: Any) -> float | None:
    """Seconds of playback of an audio or video file (MP3, MP4/M4A, WAV, Ogg …), or None when
    mutagen does not know the format (WebM) or cannot make sense of the file. The file is left
    at its start."""
    if not file or not hasattr(file, "read"):
        return None
    try:
        file.seek(0)
        parsed = mutagen.File(file)
        length = getattr(getattr(parsed, "info", None), "length", None)
    except Exception:
        # A damaged or crafted file must not break the upload: anything mutagen raises only
        # means that the length is unknown and the typed one is needed.
        return None
    finally:
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    if not isinstance(length, int | float) or not math.isfinite(length) or length <= 0:
        return None
    return float(length)


def duration_seconds_of(length: float) -> int:
    """A file's length as the whole seconds a resource stores (at least 1)."""
    return max(1, round(length))


def grossly_different(typed_seconds: int | None, real_seconds: int) -> bool:
    """Whether a typed duration was not just the file's length rounded to minutes."""
    if not typed_seconds:
        return False
    difference = abs(typed_seconds - real_seconds)
    return difference > GROSS_DIFFERENCE_SECONDS and difference > GROSS_DIFFERENCE_SHARE * real_seconds


def stored_duration(field_file: Any) -> float | None:
    """The length of a resource's stored file (None when it cannot be read or is missing)."""
    if not field_file:
        return None
    try:
        with field_file.open("rb") as handle:
            return media_duration(handle)
    except OSError:
        return None
