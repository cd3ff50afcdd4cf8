"""Reading members of untrusted zip files (bundles, KMZ) without unpacking a zip bomb."""

from __future__ import annotations

import zipfile

from geo.errors import ImportFormatError

MAX_MEMBER_BYTES = 4 * 1024**3  # a million events are ~250 MB of GeoJSON
MAX_RATIO = 100  # uncompressed / compressed: JSON and XML compress ~10x; a zip bomb far more


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    """The bytes of one member, refused when it would unpack to far more than it weighs.

    `zipfile` never returns more than the size the member declares, so checking the declared
    size and ratio first bounds what is read.
    """
    size, packed = info.file_size, max(info.compress_size, 1)
    if size > MAX_MEMBER_BYTES or (size > 10 * 1024**2 and size > MAX_RATIO * packed):
        raise ImportFormatError(
            f"{label}: {info.filename} would unpack to {size:,} bytes from {packed:,}: "
            "refused (too large, or a zip bomb)"
        )
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ImportFormatError(f"{label}: {info.filename} is damaged: {exc}") from exc
