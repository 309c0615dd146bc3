"""Tiny but valid media files made in memory, for tests that read a file's real duration."""

from __future__ import annotations

import io
import struct
import wave

from django.core.files.uploadedfile import SimpleUploadedFile

# An MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz, no padding; a frame is 417 bytes.
MP3_FRAME = b"\xff\xfb\x90\x00" + b"\x00" * 413
MP3_BYTES_PER_SECOND = 128_000 // 8


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A mono 8-bit WAV of silence (the standard library writes it)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * int(rate * seconds))
    return buffer.getvalue()


def mp3_bytes(seconds: float) -> bytes:
    """Constant-bitrate MP3 frames of silence lasting about ``seconds``."""
    frames = int(seconds * MP3_BYTES_PER_SECOND / len(MP3_FRAME)) + 1
    return MP3_FRAME * frames


def _atom(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(seconds: float) -> bytes:
    """An MP4 with a movie header (mvhd) that says how long it plays, and no tracks."""
    mvhd = (
        b"\x00\x00\x00\x00"  # version 0, flags
        + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000))  # created, modified, timescale, duration
        + b"\x00\x01\x00\x00\x01\x00"  # rate 1.0, volume 1.0
        + b"\x00" * 10  # reserved
        + b"\x00" * 36  # matrix
        + b"\x00" * 24  # pre-defined
        + b"\x00\x00\x00\x02"  # next track id
    )
    ftyp = _atom(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
    return ftyp + _atom(b"moov", _atom(b"mvhd", mvhd))


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)
