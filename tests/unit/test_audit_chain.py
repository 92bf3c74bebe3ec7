"""The audit chain's MAC and key, without AWS: what the MAC covers, and how often KMS is asked."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from onpace_core.audit import keys
from onpace_core.audit.log import MAC_ATTRIBUTE, canonical, entry_mac
from onpace_core.settings import Settings
from onpace_core.store.models import AuditModel
from pynamodb.attributes import NumberAttribute

ROOT = Path(__file__).resolve().parents[2]
KEY = b"k" * 32


def _full_item() -> AuditModel:
    """An entry with every attribute of the model set (whatever attributes it has today)."""
    item = AuditModel()
    for name, attribute in AuditModel.get_attributes().items():
        setattr(item, name, 7 if isinstance(attribute, NumberAttribute) else f"{name}-value")
    return item


def test_the_mac_covers_every_attribute_but_itself() -> None:
    """Generic over the model: an attribute another change adds (an index key, say) is covered
    without the MAC code naming it."""
    attributes = AuditModel.get_attributes()
    assert {"district_student", "district_rule", "district_failure", "prev_hash", "seq"} <= set(attributes)
    base = _full_item()
    mac = entry_mac(base, KEY)
    for name, attribute in attributes.items():
        changed = _full_item()
        setattr(changed, name, 8 if isinstance(attribute, NumberAttribute) else f"{name}-changed")
        if name == MAC_ATTRIBUTE:
            assert entry_mac(changed, KEY) == mac
        else:
            assert entry_mac(changed, KEY) != mac, f"{name} is not covered by the MAC"
    # A value removed (an index attribute dropped from the row) changes it too.
    dropped = _full_item()
    dropped.district_student = None
    assert entry_mac(dropped, KEY) != mac
    assert entry_mac(base, b"another key") != mac


def test_the_canonical_form_is_the_stored_form_and_stable() -> None:
    item = _full_item()
    assert canonical(item) == canonical(AuditModel.from_raw_data(item.serialize()))
    assert b'"seq":{"N":"7"}' in canonical(item)
    assert MAC_ATTRIBUTE.encode() + b'"' not in canonical(item).replace(b"prev_hash", b"")


class _FakeKms:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def generate_mac(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"Mac": request["Message"][::-1], "KeyId": request["KeyId"]}


def test_one_kms_request_per_district_and_container(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeKms()
    monkeypatch.setattr(keys, "kms_client", lambda: fake)
    keys.forget()
    keys.bind(Settings(audit_chain_key="key-1"))
    try:
        first = keys.district_key("d-1")
        assert keys.district_key("d-1") == first
        assert keys.district_key("d-2") != first
        assert [c["Message"] for c in fake.calls] == [
            b"onpace-audit-chain/v1/d-1",
            b"onpace-audit-chain/v1/d-2",
        ]
        assert {c["KeyId"] for c in fake.calls} == {"key-1"}
        assert {c["MacAlgorithm"] for c in fake.calls} == {"HMAC_SHA_256"}
        # Another KMS key (another deployment): its own derivation, never the cached one.
        keys.bind(Settings(audit_chain_key="key-2"))
        assert keys.district_key("d-1") == first  # the fake ignores the key; the request is new
        assert len(fake.calls) == 3
    finally:
        keys.bind(None)
        keys.forget()


def test_no_chain_key_is_an_error_not_an_unkeyed_chain() -> None:
    keys.bind(Settings(audit_chain_key=""))
    try:
        with pytest.raises(keys.ChainKeyMissingError, match="AUDIT_CHAIN_KEY"):
            keys.district_key("d-1")
    finally:
        keys.bind(None)


# -- the code only ever adds audit rows ----------------------------------------------------------


def _sources() -> list[Path]:
    return [
        p
        for folder in ("layers", "functions", "local")
        for p in (ROOT / folder).rglob("*.py")
        if ".venv" not in p.parts and "node_modules" not in p.parts
    ]


def test_audit_rows_are_built_only_by_the_log_and_put_only_on_a_new_seq() -> None:
    """IAM cannot require the put's condition, so the code is held to it here (and every put the
    integration tests record is checked too: ``onpace_local.iam.audit_overwrites``)."""
    log = ROOT / "layers/core/onpace_core/audit/log.py"
    audit_dir = log.parent
    conditional_saves = 0
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "AuditModel":
                assert path == log, f"{path}: builds an audit row outside audit/log.py"
            if isinstance(func, ast.Attribute) and ast.unparse(func.value) == "AuditModel":
                assert func.attr not in ("batch_write", "update", "delete"), f"{path}: AuditModel.{func.attr}"
            if path.parent == audit_dir and isinstance(func, ast.Attribute) and func.attr == "save":
                saved = ast.unparse(node.args[0]) if node.args else ast.unparse(func.value)
                if saved.startswith(("records[", "claim")):
                    continue  # the outbox item or claim written with the entries
                condition = next((k.value for k in node.keywords if k.arg == "condition"), None)
                assert condition is not None, f"{path}:{node.lineno}: audit save without a condition"
                assert ast.unparse(condition) == "AuditModel.seq.does_not_exist()", f"{path}:{node.lineno}"
                conditional_saves += 1
    assert conditional_saves >= 3  # append, append_claims, ChainWriter
