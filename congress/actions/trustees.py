"""The trustees' key (监票人密钥): staff name the scrutineers, the scrutineers make the key together.

Three rounds, each trustee posting one message per round from their own browser or computer
(congress.sealed.trustees; docs/secrecy.md). The server checks every message it can check and keeps
them all public: the event log holds the whole ceremony, so anyone can recompute the joint key and
every trustee's verification key. Nothing a trustee posts lets the server or staff decrypt anything.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.db.models import Delegate, KeyCeremony, Trustee, TrusteeMessage
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.permissions import Permission
from congress.reads.ceremony import ceremony_json, ceremony_messages, latest_ceremony, trustees_json
from congress.sealed.group import point_hex, read_point
from congress.sealed.trustees import (
    Ceremony,
    CeremonyError,
    check_round1,
    check_round2,
    joint_key,
    verification_key,
)

MIN_TRUSTEES = 3
ROUNDS = {1: "通信公钥", 2: "承诺与份额", 3: "确认"}


def ceremony_of(row: KeyCeremony) -> Ceremony:
    return Ceremony(row.congress_id, row.id, len(row.trustees), row.threshold)


def ready_ceremony(session: Session, congress_id: int) -> KeyCeremony | None:
    return session.scalar(sa.select(KeyCeremony).where(KeyCeremony.congress_id == congress_id,
                                                       KeyCeremony.status == "ready")
                          .order_by(KeyCeremony.id.desc()).limit(1))


def name_trustees(ctx: Context, congress_id: int, employee_ids: list[Any], threshold: int) -> dict[str, Any]:
    """A new ceremony with these delegates as trustees 1..n; votes opened earlier keep their key."""
    ctx.actor.require(Permission.NAME_TRUSTEES)
    ids = [str(e).strip() for e in employee_ids]
    if len(ids) < MIN_TRUSTEES:
        raise DomainError("bad_field", f"监票人至少 {MIN_TRUSTEES} 位（填写了 {len(ids)} 位）",
                          params={"field": "employee_ids"})
    if len(set(ids)) != len(ids):
        raise DomainError("bad_field", "监票人名单有重复", params={"field": "employee_ids"})
    if not 2 <= threshold <= len(ids):
        raise DomainError("bad_field", f"解密所需人数应在 2 到 {len(ids)} 之间（一人不能单独解密）",
                          params={"field": "threshold"})
    rows = {d.employee_id: d for d in ctx.session.scalars(sa.select(Delegate).where(
        Delegate.congress_id == congress_id, Delegate.employee_id.in_(ids), Delegate.is_active))}
    missing = [e for e in ids if e not in rows]
    if missing:
        raise DomainError("not_found", f"本次职代会没有这些代表：{'、'.join(missing)}")
    ctx.lock_congress(congress_id)
    row = KeyCeremony(congress_id=congress_id, threshold=threshold, created_at=ctx.now,
                      trustees=[Trustee(index=i, delegate_id=rows[e].id) for i, e in enumerate(ids, start=1)])
    ctx.session.add(row)
    ctx.session.flush()
    payload = {"ceremony_id": row.id, "threshold": threshold, "trustees": trustees_json(ctx.session, row)}
    ctx.emit(congress_id, "trustees.named", payload)
    return payload


def _my_index(ctx: Context, row: KeyCeremony) -> int:
    ctx.actor.require(Permission.ACT_AS_TRUSTEE)
    for trustee in row.trustees:
        if trustee.delegate_id == ctx.actor.delegate_id:
            return trustee.index
    raise DomainError("forbidden", "您不是这次密钥生成的监票人")


def post_trustee_message(ctx: Context, congress_id: int, ceremony_id: int, round: int,
                         message: dict[str, Any]) -> dict[str, Any]:
    """One trustee's message for one round, checked; the last confirmation publishes the joint key."""
    ctx.actor.require(Permission.ACT_AS_TRUSTEE)
    row = ctx.find(KeyCeremony, ceremony_id, congress_id, f"本次职代会没有这次密钥生成（编号 {ceremony_id}）")
    index = _my_index(ctx, row)
    ctx.lock_congress(congress_id)  # rounds complete in one order on every worker
    ctx.session.refresh(row)
    if row.status != "collecting":
        raise DomainError("ceremony_closed", "这次密钥生成已经结束" + ("（已失败，请工作人员重新发起）"
                                                               if row.status == "failed" else ""))
    if round not in ROUNDS:
        raise DomainError("bad_field", "轮次应为 1、2 或 3", params={"field": "round"})
    ceremony = ceremony_of(row)
    messages = ceremony_messages(ctx.session, row.id)
    if index in messages[round]:
        raise DomainError("already_posted", f"您已提交第 {round} 轮（{ROUNDS[round]}）")
    earlier = round - 1
    if earlier and len(messages[earlier]) < ceremony.trustees:
        raise DomainError("round_not_ready", f"还有监票人未完成第 {earlier} 轮（{ROUNDS[earlier]}），请稍候")
    failed = None
    try:
        if round == 1:
            check_round1(ceremony, index, message)
        elif round == 2:
            check_round2(ceremony, index, message)
        else:
            failed = _check_round3(ceremony, index, message, messages[2])
    except CeremonyError as error:
        raise DomainError("bad_trustee_message", str(error)) from None
    ctx.session.add(TrusteeMessage(ceremony_id=row.id, trustee_index=index, round=round, content=message,
                                   created_at=ctx.now))
    ctx.session.flush()
    payload = {"ceremony_id": row.id, "trustee": index, "round": round, "message": message}
    ctx.emit(congress_id, "trustee.posted", payload)
    if failed is not None:
        row.status, row.completed_at = "failed", ctx.now
        ctx.emit(congress_id, "trustees.failed", {"ceremony_id": row.id, "trustee": index, "complaint": failed})
    elif round == 3 and len(messages[3]) + 1 == ceremony.trustees:
        commitments = {i: check_round2(ceremony, i, m) for i, m in messages[2].items()}
        row.public_key = point_hex(joint_key(commitments))
        row.status, row.completed_at = "ready", ctx.now
        ctx.emit(congress_id, "trustees.key_ready", {
            "ceremony_id": row.id, "congress_id": congress_id, "threshold": row.threshold, "public_key": row.public_key,
            "verification_keys": {str(i): point_hex(verification_key(commitments, i)) for i in ceremony.indices()}})
    return payload


def _check_round3(ceremony: Ceremony, index: int, message: Any, round2: dict[int, dict[str, Any]]) -> str | None:
    """A confirmation must carry the verification key everyone can compute; a complaint fails the
    ceremony (returned as its text). Which of the two trustees is at fault is for the presidium to
    find out; the product starts a new ceremony either way."""
    if not isinstance(message, dict) or message.get("trustee") != index:
        raise CeremonyError(f"第 {index} 位监票人的确认：格式不对")
    if set(message) == {"trustee", "complaint"} and isinstance(message["complaint"], str):
        return message["complaint"][:500]
    if set(message) != {"trustee", "verification_key"}:
        raise CeremonyError(f"第 {index} 位监票人的确认：应含 verification_key 或 complaint")
    commitments = {i: check_round2(ceremony, i, m) for i, m in round2.items()}
    if read_point(message["verification_key"], "verification_key") != verification_key(commitments, index):
        raise CeremonyError(f"第 {index} 位监票人的验证公钥与各方承诺算出的不一致")
    return None


def ceremony_state(ctx: Context, congress_id: int, ceremony_id: int | None = None) -> dict[str, Any]:
    """The ceremony as anyone may see it: trustees, threshold, status, every message posted."""
    if ceremony_id is not None:
        row = ctx.session.get(KeyCeremony, ceremony_id)
        if row is None or row.congress_id != congress_id:
            raise DomainError("not_found", f"本次职代会没有这次密钥生成（编号 {ceremony_id}）")
    else:
        row = latest_ceremony(ctx.session, congress_id)
    return {"ceremony": ceremony_json(ctx.session, row, ctx.actor) if row is not None else None}


TRUSTEE = Obj((Key("index", int), Key("employee_id", str), Key("name", str), Key("group", str)))
_PAIR = Obj((Key("c", str, "hex"), Key("s", str, "hex")), "a proof (congress/sealed/proofs.py)")
ROUND_MESSAGE = Obj((
    Key("trustee", int, "the sender's index"),
    Key("comm_key", str, "round 1: the communication public key (hex point)", False),
    Key("comm_proof", _PAIR, "round 1: that the sender holds its secret", False),
    Key("commitments", ListOf(str), "round 2: the polynomial's commitments (hex points)", False),
    Key("key_proof", _PAIR, "round 2", False),
    Key("shares", ListOf(Obj((Key("to", int, "the receiving trustee"), Key("ephemeral", str), Key("sealed", str)))),
        "round 2: each other trustee's share, encrypted to them", False),
    Key("verification_key", str, "round 3, to confirm: the key everyone can compute", False),
    Key("complaint", str, "round 3, instead: a share did not check (the ceremony fails)", False)),
    "one round's message, as congress/sealed/trustees.py writes it (docs/secrecy.md): exactly that round's keys")

COMMANDS: tuple[Command, ...] = (
    Command("name_trustees", name_trustees, (
        Param("employee_ids", list, doc="监票人工号（至少 3 位）", shape=ListOf(str, "工号 of delegates")),
        Param("threshold", int, doc="解密所需人数")),
        "指定监票人并发起密钥生成",
        result=Obj((Key("ceremony_id", int), Key("threshold", int), Key("trustees", ListOf(TRUSTEE))),
                   "a new key ceremony (3 or more delegates, threshold 2…n); votes opened before keep their key"),
        errors=("bad_field", "not_found"), permissions=(Permission.NAME_TRUSTEES,)),
    Command("post_trustee_message", post_trustee_message, (
        Param("ceremony_id", int), Param("round", int, doc="1 / 2 / 3"), Param("message", dict, shape=ROUND_MESSAGE)),
        "监票人提交密钥生成的一轮消息",
        result=Obj((Key("ceremony_id", int), Key("trustee", int), Key("round", int), Key("message", dict)),
                   "checked and published; round r once every trustee posted r-1; the last confirmation publishes "
                   "the key"),
        errors=("already_posted", "bad_field", "bad_trustee_message", "ceremony_closed", "not_found",
                "round_not_ready"), permissions=(Permission.ACT_AS_TRUSTEE,), who="a named trustee"),
    Command("ceremony_state", ceremony_state, (Param("ceremony_id", int, False),), "密钥生成的进展与全部公开消息",
            writes=False,
            result=Obj((Key("ceremony", Obj((
                Key("ceremony_id", int), Key("congress_id", int), Key("threshold", int), Key("trustee_count", int),
                Key("status", str, "collecting / ready / failed"), Key("public_key", str),
                Key("trustees", ListOf(TRUSTEE)), Key("my_index", int, "the caller's, if a trustee"),
                Key("messages", MapOf("round", MapOf("trustee index", dict))))), "null: none yet"),),
                       "the latest ceremony (or `ceremony_id`'s, of this congress)"),
            errors=("not_found",)),
)
