"""sim/native.py: an edited source runs as Python instead of a stale compiled module."""

from __future__ import annotations

import hashlib
import json

from sim import native


def test_a_changed_source_is_stale(tmp_path, monkeypatch):
    for name in native.COMPILED:
        (tmp_path / f"{name}.py").write_text(f"# {name}\n", encoding="utf-8")
    digests = {name: hashlib.sha256(f"# {name}\n".encode()).hexdigest() for name in native.COMPILED}
    (tmp_path / native.SOURCES_FILE).write_text(json.dumps(digests), encoding="utf-8")
    monkeypatch.setattr(native, "PACKAGE", tmp_path)
    assert native._stale() == []
    (tmp_path / "model.py").write_text("# model, edited\n", encoding="utf-8")
    assert native._stale() == ["model"]
    (tmp_path / native.SOURCES_FILE).unlink()
    assert native._stale() == list(native.COMPILED)        # unknown: all stale


def test_the_switch_reads_the_environment(monkeypatch):
    for value, pure in (("", False), ("0", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("GOVSIM_PURE_PYTHON", value)
        assert native.asked_pure() is pure
