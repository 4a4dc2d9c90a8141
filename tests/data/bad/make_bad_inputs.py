"""Writes the bad-input corpus beside this script (run it to regenerate; the files are committed).

Every file holds records a run can use around the damage, so that a test sees both: the damage is one
reject naming the file and line (or row), the good records are scored.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
RESPONSE = "We add the two numbers. The sum is 5. Then we check it again. DONE."


def record(rid: str, **extra: object) -> dict:
    return {"id": rid, "prompt": "What is 2 + 3?", "response": RESPONSE, "question_id": "q1", **extra}


def line(value: dict) -> bytes:
    return (json.dumps(value) + "\n").encode("utf-8")


def main() -> None:
    # a gzip stream cut near its end: records with incompressible noise, so that the reader gets the first
    # ones (one buffer) before it meets the cut
    noise = random.Random(0)
    lines = [line(record(f"gz{i}", noise=noise.randbytes(256).hex())) for i in range(40)]
    whole = gzip.compress(b"".join(lines))
    (HERE / "truncated.jsonl.gz").write_bytes(whole[: len(whole) * 3 // 4])
    # a plain JSON lines file named .gz
    (HERE / "not_gzip.jsonl.gz").write_bytes(line(record("plain0")))
    # a Parquet file cut short (no footer), and one whose footer is overwritten
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([record(f"pq{i}") for i in range(3)]), buf)
    data = buf.getvalue()
    (HERE / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (HERE / "corrupt.parquet").write_bytes(data[:-12] + b"\x00" * 8 + data[-4:])
    # a BOM before the first record; a bare CR (JSON whitespace) inside a record
    (HERE / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + line(record("bom0")) + line(record("bom1")))
    cr = json.dumps(record("cr0")).replace(', "prompt"', ',\r "prompt"').encode("utf-8") + b"\n"
    (HERE / "bare_cr.jsonl").write_bytes(cr + line(record("cr1")))
    # an unpaired surrogate escape in an id, a byte that is not UTF-8 in a question_id, a surrogate in a
    # prompt; then a good record
    bad_id = b'{"id": "x\\ud800", "prompt": "Q", "response": "A sentence."}\n'
    bad_byte = line(record("byte0")).replace(b'"q1"', b'"q\xff1"')
    bad_prompt = b'{"id": "p0", "prompt": "Q\\udc80", "response": "A sentence."}\n'
    (HERE / "surrogates.jsonl").write_bytes(bad_id + bad_byte + bad_prompt + line(record("good0")))
    # a JSON error whose message ends in "at" (control character inside a string)
    (HERE / "control_char.jsonl").write_bytes(b'{"id": "c0", "prompt": "Q", "response": "a\x01b"}\n')


if __name__ == "__main__":
    main()
