"""Certificate statuses in the register: transitions, expiry as of today, recertification."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from certdocs.errors import RegisterError
from certdocs.register import Register, Status, StatusChange
from tests.postgres_registers import empty_register, postgres_registers  # noqa: F401  (fixture)
from tests.test_register import PATTERN, document, facts, issue

TODAY = date(2027, 1, 1)
ON = date(2027, 3, 1)
Change = Callable[..., StatusChange]


@pytest.fixture(params=["sqlite", "postgresql"])
def register(request: pytest.FixtureRequest) -> Iterator[Register]:
    """An empty register on each backend: in-memory SQLite, PostgreSQL (tests/postgres_registers.py)."""
    with empty_register(request) as reg:
        yield reg


def status(register: Register, number: str, today: date = TODAY) -> Status | None:
    return register.get(number, today=today).status


def test_a_certificate_can_be_suspended_restored_and_then_withdrawn(register: Register) -> None:
    number = issue(register, "k1")
    register.suspend(number, reason="监督审核未按期进行", actor="张三", on=date(2027, 2, 1))
    assert status(register, number, date(2027, 2, 2)) == Status.SUSPENDED
    register.restore(number, reason="已完成监督审核", actor="张三", on=date(2027, 3, 1))
    assert status(register, number, date(2027, 3, 2)) == Status.VALID
    change = register.withdraw(number, reason="重大质量事故", actor="李四", on=date(2027, 4, 1))
    assert (change.status, change.on, change.actor) == (Status.WITHDRAWN, date(2027, 4, 1), "李四")
    history = register.get(number, today=TODAY).history
    assert [(h.status, h.on, h.reason) for h in history] == [
        (Status.VALID, date(2026, 11, 22), history[0].reason),
        (Status.SUSPENDED, date(2027, 2, 1), "监督审核未按期进行"),
        (Status.VALID, date(2027, 3, 1), "已完成监督审核"),
        (Status.WITHDRAWN, date(2027, 4, 1), "重大质量事故"),
    ]


def test_a_suspended_certificate_can_be_cancelled(register: Register) -> None:
    number = issue(register, "k1")
    register.suspend(number, reason="暂停", actor="张三", on=ON)
    register.cancel(number, reason="企业申请注销", actor="张三", on=ON)
    assert status(register, number) == Status.CANCELLED


def _suspend(r: Register) -> Change:
    return r.suspend


def _restore(r: Register) -> Change:
    return r.restore


def _withdraw(r: Register) -> Change:
    return r.withdraw


def _cancel(r: Register) -> Change:
    return r.cancel


ACTIONS: dict[str, tuple[Callable[[Register], Change], str]] = {
    "suspend": (_suspend, "暂停"),
    "restore": (_restore, "恢复"),
    "withdraw": (_withdraw, "撤销"),
    "cancel": (_cancel, "注销"),
}


@pytest.mark.parametrize(
    ("before", "action", "current"),
    [
        ([], "restore", "有效"),
        (["suspend"], "suspend", "暂停"),
        (["withdraw"], "restore", "撤销"),
        (["withdraw"], "suspend", "撤销"),
        (["withdraw"], "cancel", "撤销"),
        (["cancel"], "restore", "注销"),
        (["cancel"], "withdraw", "注销"),
        (["suspend", "cancel"], "suspend", "注销"),
    ],
)
def test_it_refuses_an_invalid_transition_naming_certificate_status_and_action(
    register: Register, before: list[str], action: str, current: str
) -> None:
    number = issue(register, "k1")
    for step in before:
        ACTIONS[step][0](register)(number, reason="前置", actor="张三", on=ON)
    method, verb = ACTIONS[action]
    with pytest.raises(RegisterError) as caught:
        method(register)(number, reason="试图变更", actor="张三", on=ON)
    assert f"证书 {number}：当前状态为「{current}」，不能{verb}" in str(caught.value)
    assert len(register.get(number, today=TODAY).history) == 1 + len(before)


def test_expiry_is_derived_from_the_day_asked_about(register: Register) -> None:
    number = issue(register, "k1")  # 有效期至 2029-11-21
    assert status(register, number, date(2029, 11, 21)) == Status.VALID
    assert status(register, number, date(2029, 11, 22)) == Status.EXPIRED
    record = register.get(number, today=date(2029, 11, 22))
    assert record.stored_status == Status.VALID
    assert [r.number for r in register.list(status=Status.EXPIRED, today=date(2030, 1, 1))] == [number]
    assert register.list(status="过期失效", today=date(2029, 1, 1)) == ()


def test_a_suspended_certificate_expires_too_but_a_withdrawn_one_stays_withdrawn(register: Register) -> None:
    suspended, withdrawn = issue(register, "k1"), issue(register, "k2")
    register.suspend(suspended, reason="暂停", actor="张三", on=ON)
    register.withdraw(withdrawn, reason="撤销", actor="张三", on=ON)
    later = date(2030, 1, 1)
    assert (status(register, suspended, later), status(register, withdrawn, later)) == (
        Status.EXPIRED,
        Status.WITHDRAWN,
    )


def test_nothing_can_happen_to_an_expired_certificate(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="当前状态为「过期失效」，不能暂停"):
        register.suspend(number, reason="迟到的暂停", actor="张三", on=date(2029, 12, 1))


def test_a_status_change_cannot_be_dated_before_the_last_one(register: Register) -> None:
    number = issue(register, "k1")
    register.suspend(number, reason="暂停", actor="张三", on=date(2027, 5, 1))
    with pytest.raises(RegisterError, match="早于上一次状态变更日期 2027-05-01"):
        register.restore(number, reason="恢复", actor="张三", on=date(2027, 4, 30))
    with pytest.raises(RegisterError, match="早于本次发证日期"):
        register.cancel(issue(register, "k2"), reason="注销", actor="张三", on=date(2026, 11, 1))


def test_a_reserved_number_cannot_change_status(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    with pytest.raises(RegisterError, match="尚未发证"):
        register.suspend(held.number, reason="暂停", actor="张三", on=ON)


def test_a_change_needs_a_reason_and_an_actor(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError) as caught:
        register.suspend(number, reason=" ", actor="", on=ON)
    assert {p.where for p in caught.value.problems} == {"reason", "actor"}


@pytest.mark.parametrize(
    "typed",
    ["\u202e期逾核审", "监督\x07审核", "监督\n审核", "\u2067李文"],
    ids=["right-to-left-override", "bell", "newline", "right-to-left-isolate"],
)
def test_a_reason_or_actor_that_would_print_differently_is_refused_at_its_character(
    register: Register, typed: str
) -> None:
    # The reason and the actor are shown on the public verification page and printed on letters.
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="个字符是 U\\+") as caught:
        register.suspend(number, reason=typed, actor=typed, on=ON)
    assert [p.where for p in caught.value.problems] == ["reason", "actor"]
    assert register.get(number, today=ON).status == Status.VALID


def test_a_void_reason_that_would_print_differently_is_refused(register: Register) -> None:
    held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    with pytest.raises(RegisterError, match="双向文本控制符"):
        register.void(held.number, reason="发证中止\u202e", actor="李文")
    assert register.unissued(today=ON)[0].void_reason is None


def test_list_active_holds_valid_and_suspended_certificates_in_force(register: Register) -> None:
    valid, suspended, withdrawn = issue(register, "k1"), issue(register, "k2"), issue(register, "k3")
    expired = issue(register, "k4", valid_until=date(2027, 6, 30))
    register.suspend(suspended, reason="暂停", actor="张三", on=ON)
    register.withdraw(withdrawn, reason="撤销", actor="张三", on=ON)
    assert [r.number for r in register.list_active(date(2027, 7, 1))] == [valid, suspended]
    assert [r.number for r in register.list_active(date(2027, 6, 30))] == [valid, suspended, expired]


# -- recertification ---------------------------------------------------------------------------


def recertify(register: Register, old: str, key: str = "k-re") -> str:
    held = register.reserve(
        key,
        pattern=PATTERN,
        year=2029,
        facts=facts(
            issue_date=date(2029, 10, 20),
            decision_date=date(2029, 10, 18),
            valid_until=date(2032, 11, 21),
            audit_type="recertification",
        ),
    )
    register.complete(held.number, documents=[document()])
    return held.number


def test_supersede_cancels_the_old_certificate_naming_the_new_one(register: Register) -> None:
    old = issue(register, "k1")
    assert (current := register.find_current("91350200MA2YJ1XR9G", "xbht-s04-2025", today=TODAY))
    assert current.number == old
    new = recertify(register, old)
    change = register.supersede(old, new_number=new, on=date(2029, 10, 20))
    assert (change.status, change.reason) == (Status.CANCELLED, f"再认证换发新证 {new}")
    record = register.get(old, today=date(2029, 10, 21))
    assert (record.status, record.superseded_by) == (Status.CANCELLED, new)
    found = register.find_current("91350200MA2YJ1XR9G", "xbht-s04-2025", today=TODAY)
    assert found is not None
    assert found.number == new
    assert register.supersede(old, new_number=new, on=date(2029, 10, 20)) == change
    assert len(register.get(old, today=TODAY).history) == 2


def test_supersede_retires_an_already_expired_certificate_too(register: Register) -> None:
    old = issue(register, "k1")
    new = recertify(register, old)
    register.supersede(old, new_number=new, on=date(2029, 12, 1))
    assert status(register, old, date(2030, 1, 1)) == Status.CANCELLED


@pytest.mark.parametrize(
    ("setup", "rule"),
    [
        ("withdrawn", "当前状态为「撤销」，不能再认证换发新证"),
        ("other_org", "组织或评价方案与原证书不一致"),
        ("reserved", "尚未发证"),
        ("twice", "已由证书"),
    ],
)
def test_supersede_refuses_what_is_not_a_recertification(register: Register, setup: str, rule: str) -> None:
    old = issue(register, "k1")
    if setup == "withdrawn":
        register.withdraw(old, reason="撤销", actor="张三", on=ON)
        new = recertify(register, old)
    elif setup == "other_org":
        new = issue(register, "k2", uscc="91110000100000000A")
    elif setup == "reserved":
        new = register.reserve("k2", pattern=PATTERN, year=2029, facts=facts()).number
    else:
        register.supersede(old, new_number=recertify(register, old), on=ON)
        new = recertify(register, old, key="k-re-2")
    with pytest.raises(RegisterError, match=rule):
        register.supersede(old, new_number=new, on=date(2029, 10, 20))


def test_find_current_is_none_for_an_unknown_organisation(register: Register) -> None:
    issue(register, "k1")
    assert register.find_current("91350200MA2YJ1XR9G", "fw01-2021", today=TODAY) is None


def test_the_last_audit_moves_forward_only(register: Register) -> None:
    number = issue(register, "k1")
    register.record_last_audit(number, audit_type="surveillance", end_date=date(2027, 9, 1))
    record = register.get(number, today=TODAY)
    assert (record.last_audit_type, record.last_audit_end_date) == ("surveillance", date(2027, 9, 1))
    with pytest.raises(RegisterError, match="早于已记录的 2027-09-01"):
        register.record_last_audit(number, audit_type="surveillance", end_date=date(2027, 8, 1))


def test_a_suspension_keeps_its_last_day(register: Register) -> None:
    number = issue(register, "k1")
    register.suspend(
        number, reason="逾期未接受监督审核", actor="李四", on=TODAY, until=TODAY.replace(year=TODAY.year + 1)
    )
    assert register.get(number, today=TODAY).history[-1].until == TODAY.replace(year=TODAY.year + 1)


def test_a_suspension_ending_before_it_starts_is_refused(register: Register) -> None:
    number = issue(register, "k1")
    with pytest.raises(RegisterError, match="暂停期限"):
        register.suspend(number, reason="逾期", actor="李四", on=TODAY, until=TODAY.replace(year=TODAY.year - 1))
    assert register.get(number, today=TODAY).status == Status.VALID
