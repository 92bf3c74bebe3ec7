"""One-click unsubscribe (RFC 8058) over the local stack: notify's messages read back from moto's
SES, the endpoint through the local API gateway into the real ingest handler, the district's key
in moto's Secrets Manager, the opt-out in the SuppressionsTable."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage

import pytest
from onpace_core.audit.log import read
from onpace_core.delivery import unsubscribe
from onpace_core.delivery.escalation import escalation_id
from onpace_core.delivery.sender import deliver
from onpace_core.delivery.suppression import address_hash
from onpace_core.settings import Settings
from onpace_core.store.models import Contact, OutboxModel, SuppressionModel
from onpace_local.gateway import GatewayHandle
from onpace_local.stack import LocalStack

from tests.integration.test_notify import TEMPLATES, _insert, _notice, _refreshed, _sent, _settings

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs="transactions")]

COURTESY = "cps.participation.warning"
STUDENT = Contact(role="student", address="jamie@students.school.example", name="Jamie Rivera")
ANA = Contact(role="guardian", address="ana@family.example", name="Ana Rivera")
COUNSELOR = Contact(role="counselor", address="counselor@school.example", name="Dana")


def _district(stack: LocalStack) -> str:
    district = f"d-{uuid.uuid4().hex[:10]}"
    stack.client("secretsmanager").create_secret(
        Name=f"{Settings().unsubscribe_secret_prefix}{district}", SecretString=uuid.uuid4().hex
    )
    return district


def _courtesy(district: str, episode: str, rule_id: str = COURTESY) -> OutboxModel:
    enrollment = f"{district}#cls-1#stu-1"
    if rule_id != COURTESY:  # a pacing warning: the facts and deadlines _notice has
        return _notice(
            rule_id=rule_id,
            district_id=district,
            enrollment_key=enrollment,
            notice_id=f"{enrollment}#{rule_id}#{episode}",
            episode=episode,
            recipients=[STUDENT, ANA, COUNSELOR],
        )
    return _notice(
        rule_id=rule_id,
        facts={
            "school_days_without_activity": 15,
            "last_activity_date": "2026-09-03",
            "enrollment_start": "2026-08-24",
        },
        district_id=district,
        enrollment_key=enrollment,
        notice_id=f"{enrollment}#{rule_id}#{episode}",
        episode=episode,
        deadlines={"last_day": "2026-10-02", "drop": "2026-10-05"},
        recipients=[STUDENT, ANA, COUNSELOR],
    )


def _send(stack: LocalStack, gateway: GatewayHandle, item: OutboxModel) -> dict[str, EmailMessage]:
    settings = dataclasses.replace(_settings(stack), unsubscribe_url=f"{gateway.url}/unsubscribe")
    _insert(item)
    deliver(item.notice_id, stack.client("sesv2"), settings, TEMPLATES)
    return {to: message for to, message, _ in _sent(stack, item.notice_id)}


def _link(message: EmailMessage) -> str:
    value = str(message["List-Unsubscribe"])
    assert value.startswith("<") and value.endswith(">")
    return value[1:-1]


def _call(url: str, method: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _opt_out(district: str, rule_id: str, address: str) -> SuppressionModel | None:
    try:
        return SuppressionModel.get(district, unsubscribe.entry_key(rule_id, address_hash(address)))
    except SuppressionModel.DoesNotExist:
        return None


ONE_CLICK = b"List-Unsubscribe=One-Click"


def test_one_click_unsubscribe_from_a_courtesy_notice(
    local_stack: LocalStack, gateway: GatewayHandle
) -> None:
    district = _district(local_stack)
    sent = _send(local_stack, gateway, _courtesy(district, "since-2026-09-04"))
    assert set(sent) == {STUDENT.address, ANA.address, COUNSELOR.address}
    for family in (STUDENT.address, ANA.address):
        assert _link(sent[family]).startswith(f"{gateway.url}/unsubscribe?t=")
        assert sent[family]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent[COUNSELOR.address]["List-Unsubscribe"] is None  # staff: nothing to turn off
    link = _link(sent[ANA.address])
    assert ANA.address not in link  # the token holds a hash of the address, not the address

    # A required notice carries no header.
    required = _send(local_stack, gateway, _courtesy(district, "ipr-2026-10-09", "cps.pacing.ipr_warning_2w"))
    assert all(m["List-Unsubscribe"] is None for m in required.values())

    # GET shows a button and unsubscribes nobody (a mail scanner follows links).
    status, page = _call(link, "GET")
    assert status == 200 and 'method="post"' in page and "One-Click" in page
    assert _opt_out(district, COURTESY, ANA.address) is None

    # A forged or altered token, or a POST without the one-click body, is refused.
    token = link.split("?t=")[1]
    payload, signature = token.split(".")
    forged_sig = f"{gateway.url}/unsubscribe?t={payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    student_payload = _link(sent[STUDENT.address]).split("?t=")[1].split(".")[0]
    swapped = f"{gateway.url}/unsubscribe?t={student_payload}.{signature}"  # another address, Ana's MAC
    for bad in (forged_sig, swapped, f"{gateway.url}/unsubscribe?t=garbage"):
        status, page = _call(bad, "POST", ONE_CLICK)
        assert status == 403 and ("signature" in page or "not one of ours" in page)
    assert _call(link, "POST", b"")[0] == 400
    assert _opt_out(district, COURTESY, ANA.address) is None
    assert _opt_out(district, COURTESY, STUDENT.address) is None

    # The one-click POST records the opt-out once, audited; again changes nothing.
    assert _call(link, "POST", ONE_CLICK)[0] == 200
    assert _call(link, "POST", ONE_CLICK)[0] == 200
    stored = _opt_out(district, COURTESY, ANA.address)
    assert stored is not None and stored.reason == f"unsubscribed:{COURTESY}"
    assert ANA.address not in json.dumps(stored.attribute_values)
    (entry,) = [e for e in read(district, limit=100) if e.type == "notice.unsubscribed"]
    assert entry.rule_id == COURTESY and ANA.address not in entry.detail

    # The next courtesy notice skips Ana (not escalated: her choice); the student still gets it.
    later = _courtesy(district, "since-2026-10-01")
    again = _send(local_stack, gateway, later)
    assert set(again) == {STUDENT.address, COUNSELOR.address}
    entry_r1 = _refreshed(later).deliveries.as_dict()["r1"]
    assert (entry_r1["status"], entry_r1["error"]) == ("suppressed", "unsubscribed")
    assert not OutboxModel.count(escalation_id(later.notice_id, 1))
    # A required notice still reaches her.
    required_later = _send(
        local_stack, gateway, _courtesy(district, "ipr-2026-10-23", "cps.pacing.ipr_warning_1w")
    )
    assert ANA.address in required_later
