"""Upload the receipt images examples-vertex/data/receipts.jsonl names into Cloud Storage
(the emulator's, when STORAGE_EMULATOR_HOST is set by `gitops-tune emulator --dialect vertex`),
as image/png objects under gs://gitops-tune-staging/receipts/. Any PNG would do: the emulator
does not look at pixels."""

from __future__ import annotations

import struct
import zlib

from google.cloud import storage  # the [vertex] extra


def png(shade: int) -> bytes:
    """A 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes([0, shade])))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    bucket = storage.Client(project="emulator").bucket("gitops-tune-staging")
    for i in range(20):
        bucket.blob(f"receipts/{i}.png").upload_from_string(png(i * 12), content_type="image/png")
    print("staged 20 receipts under gs://gitops-tune-staging/receipts/")


if __name__ == "__main__":
    main()
