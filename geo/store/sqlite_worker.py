"""A helper process reading one rowid range of the events table into an Arrow IPC stream.

Run as a script by path (``python sqlite_worker.py SPEC``), never imported as part of `geo`, so
it starts with only sqlite3 and pyarrow (~0.2 s) and not pandas. `sqlite_read` starts one to
read half of a large table while it reads the other half: sqlite3 makes a Python object per
value under the GIL, so two threads cannot share that work but two processes can (2 cores).
SPEC is JSON: {"db", "sql", "params", "fields": [[name, arrow type name], …], "chunk"}.
It writes struct batches to stdout and exits 0, or exits 3 if a chunk does not convert (the
caller then reads that range itself, through its slower general path).
"""

from __future__ import annotations

import json
import sqlite3
import sys

import pyarrow as pa

TYPES = {"binary": pa.large_binary(), "int64": pa.int64(), "float64": pa.float64()}


def main(spec_text: str) -> int:
    """Stream the rows of `spec["sql"]` as Arrow record batches; the exit status."""
    spec = json.loads(spec_text)
    kind = pa.struct([(name, TYPES[t]) for name, t in spec["fields"]])
    conn = sqlite3.connect(f"file:{spec['db']}?mode=ro", uri=True, timeout=30)
    conn.text_factory = bytes
    try:
        cur = conn.execute(spec["sql"], spec["params"])
        with pa.ipc.new_stream(pa.output_stream(sys.stdout.buffer), pa.schema(kind)) as out:
            while chunk := cur.fetchmany(spec["chunk"]):
                try:
                    batch = pa.RecordBatch.from_struct_array(pa.array(chunk, type=kind))
                except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                    return 3
                out.write_batch(batch)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
