"""`chainoftrust pcr predict` end to end, through `python -m chainoftrust` in a subprocess.

Checks the success output shape, the error object (code, operation, message, field),
exit codes (0 values, 1 error, 2 unreadable file), the human output without --json,
and that the command imports neither z3 nor hypothesis nor the spec.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DIGEST = hashlib.sha256(b"kernel").digest()
GOOD = {
    "banks": ["sha256", "sha1"],
    "operations": [
        {"op": "startup", "type": "clear", "locality": 3},
        {"op": "extend", "pcr": 4, "digests": {"sha256": DIGEST.hex().upper()}},
    ],
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainoftrust", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def write(tmp_path: Path, document: Any, name: str = "ops.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_predict_json_success(tmp_path: Path) -> None:
    out = run("pcr", "predict", write(tmp_path, GOOD), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert list(result) == ["pcrs"]
    assert list(result["pcrs"]) == ["sha1", "sha256"]
    sha256 = result["pcrs"]["sha256"]
    assert list(sha256) == [str(i) for i in range(24)]
    assert sha256["0"] == "00" * 31 + "03"
    assert sha256["4"] == hashlib.sha256(bytes(32) + DIGEST).hexdigest()
    assert sha256["17"] == "ff" * 32
    assert result["pcrs"]["sha1"]["4"] == "00" * 20


def test_predict_human_output(tmp_path: Path) -> None:
    out = run("pcr", "predict", write(tmp_path, GOOD))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "sha1:"
    assert lines[25] == "sha256:"
    expected = hashlib.sha256(bytes(32) + DIGEST).hexdigest().upper()
    assert f"   4: 0x{expected}" in lines
    assert len(lines) == 2 * 25


@pytest.mark.parametrize(
    ("document", "code", "operation", "field"),
    [
        ({"banks": [], "operations": []}, "NO_BANKS", None, "banks"),
        (
            {"banks": ["sha256"], "operations": [{"op": "reset", "pcr": 24}]},
            "PCR_INDEX_OUT_OF_RANGE",
            0,
            "operations[0].pcr",
        ),
        (
            {
                "banks": ["sha256"],
                "operations": [
                    {"op": "startup", "type": "clear"},
                    {"op": "reset", "pcr": 17, "locality": 4},
                ],
            },
            "LOCALITY_NOT_ALLOWED",
            1,
            None,
        ),
        ({"banks": ["sha256"], "operations": []}, "NOT_STARTED", None, None),
        ("{not json", "INVALID_DOCUMENT", None, None),
    ],
)
def test_predict_json_errors(
    tmp_path: Path, document: Any, code: str, operation: int | None, field: str | None
) -> None:
    out = run("pcr", "predict", write(tmp_path, document), "--json")
    assert out.returncode == 1, out.stderr
    error = json.loads(out.stdout)
    assert list(error) == ["error"]
    assert set(error["error"]) == {"code", "operation", "message", "field", "offset"}
    assert error["error"]["offset"] is None  # a JSON document has no byte offsets
    assert error["error"]["code"] == code
    assert error["error"]["operation"] == operation
    assert error["error"]["field"] == field
    assert error["error"]["message"]
    assert "Traceback" not in out.stderr


def test_predict_human_error(tmp_path: Path) -> None:
    document = {"banks": ["sha256"], "operations": [{"op": "drtm", "data": ""}]}
    out = run("pcr", "predict", write(tmp_path, document))
    assert out.returncode == 1
    assert out.stdout == ""
    assert "DRTM_BEFORE_STARTUP in operation 0" in out.stderr
    assert "Traceback" not in out.stderr


def test_predict_unreadable_file(tmp_path: Path) -> None:
    out = run("pcr", "predict", str(tmp_path / "missing.json"), "--json")
    assert out.returncode == 2
    assert "cannot read" in out.stderr
    assert out.stdout == ""


def test_predict_imports_neither_z3_nor_hypothesis(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code = (
        "import io, sys, contextlib\n"
        "from chainoftrust.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['pcr', 'predict', {path!r}, '--json'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('z3', 'hypothesis')\n"
        "             or m.startswith('chainoftrust.spec'))\n"
        "print(rc, bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0 []"


CLI_GAPS = [
    pytest.param(b'{"banks": ["sha256"], "banks": ["sha1"], "operations": []}', id="duplicate-key"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),  # UnicodeDecodeError escapes read_text
    pytest.param(b"[" * 100_000, id="deep-nesting"),  # RecursionError escapes json.loads
    pytest.param(
        b'{"banks": ["sha256"], "operations": [{"op": "reset", "pcr": ' + b"9" * 5000 + b"}]}",
        id="huge-integer",  # ValueError (int max str digits) escapes json.loads
    ),
]


@pytest.mark.parametrize("raw", CLI_GAPS)
def test_predict_hostile_files_fail_closed(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(raw)
    out = run("pcr", "predict", str(path), "--json")
    assert "Traceback" not in out.stderr
    assert out.returncode in (1, 2)
    if out.returncode == 1:
        assert json.loads(out.stdout)["error"]["code"] == "INVALID_DOCUMENT"
