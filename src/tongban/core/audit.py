"""The one append-only audit log of the platform, chained entry to entry.

Every entry's ``hash`` is an HMAC over the previous entry's hash and the entry's own fields,
so anyone who edits, deletes or inserts a row directly in the database breaks the chain at
that row, and cannot mend it without the audit key (kept out of the database). The
database refuses UPDATE and DELETE on the table as well (triggers in the migration).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import BigInteger, Engine, Integer, String, Table, Text, bindparam, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tongban.core.db.base import Base, UTCDateTime

from tongban.core import clock

from tongban.core.db.driver import DriverStatement, driver_error, driver_of
from tongban.core.db.session import PENDING_WRITES
from tongban.core.observability import current_request_id

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # user | client | anonymous | system
    actor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(128))
    department_code: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128), index=True)
    purpose: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))  # success | denied | failed
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last sequence number and hash; its row lock orders concurrent writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Actor(Protocol):
    """Who did it: a signed-in principal, an API client or the system (read-only for the record)."""

    @property
    def actor_type(self) -> str: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_name(self) -> str | None: ...
    @property
    def department_code(self) -> str | None: ...


@dataclass(frozen=True)
class SystemActor:
    actor_name: str = "system"
    actor_type: str = "system"
    actor_id: str | None = None
    department_code: str | None = None


ANONYMOUS = SystemActor(actor_name="anonymous", actor_type="anonymous")
SYSTEM = SystemActor(actor_name="system（平台自动）")


def _canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry_digest(key: bytes, prev_hash: str, entry: AuditEvent) -> str:
    fields = [
        str(entry.seq), _canonical_time(entry.occurred_at), entry.actor_type, entry.actor_id,
        entry.actor_name, entry.department_code, entry.action, entry.object_type, entry.object_id,
        entry.purpose, entry.outcome, entry.request_id, entry.details, prev_hash,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def audit_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"tongban-audit-chain:" + secret_key.encode()).digest()


_key: bytes | None = None


def configure(secret_key: str) -> None:
    """Set the audit key once at start-up (app or CLI)."""
    global _key
    _key = audit_key(secret_key)


def _current_key() -> bytes:
    if _key is None:
        raise RuntimeError("audit key not configured: call tongban.core.audit.configure()")
    return _key


def record(
    db: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    purpose: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    department_code: str | None = None,
) -> AuditEvent:
    """Append one entry in the caller's transaction: it exists only if the caller commits.

    The entry is linked into the chain when the transaction commits (``_link_pending``): the
    chain head's lock, which orders all writers, is then held only for the commit itself, not
    for the rest of a long transaction that audited early."""
    entry = AuditEvent(
        occurred_at=clock.now(),
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_name=actor.actor_name,
        department_code=department_code or actor.department_code,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        purpose=purpose,
        outcome=outcome,
        request_id=current_request_id(),
        details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str),
    )
    db.info.setdefault(PENDING_WRITES, []).append(entry)
    return entry


@event.listens_for(Session, "before_commit")
def _link_pending(db: Session) -> None:
    if db.in_nested_transaction():  # a savepoint's release: the entries wait for the transaction's commit
        return
    pending: list[AuditEvent] = db.info.pop(PENDING_WRITES, None) or []
    if not pending:
        return
    key = _current_key()
    db.flush()  # the transaction's own changes first: the lock below is held only for the chain
    # Taking the head row serialises writers (row lock on PostgreSQL, write lock on SQLite).
    last_seq, prev_hash = db.execute(_TAKE_HEAD, {"count": len(pending)}).one()
    for seq, entry in enumerate(pending, start=last_seq - len(pending) + 1):
        entry.seq, entry.prev_hash = seq, prev_hash
        entry.hash = prev_hash = _entry_digest(key, prev_hash, entry)
    rows = [{column: getattr(entry, column) for column in _COLUMNS} for entry in pending]
    connection = db.connection()
    if connection.dialect.name == "postgresql" and isinstance(db.get_bind(), Engine):
        _write_and_commit(connection, rows, prev_hash)
        return
    # Core, not the session's unit of work: the entries are final, and this runs under the lock.
    db.execute(_INSERT, rows)
    db.execute(_MOVE_HEAD, {"new_hash": prev_hash})


def _write_and_commit(connection, rows: list[dict], head_hash: str) -> None:
    """On PostgreSQL the entries, the head's move and the COMMIT go to the server together, in one
    round trip (psycopg's pipeline mode); SQLAlchemy's own COMMIT after this finds the transaction
    ended and sends nothing. Every writer of the platform queues for the head's lock, so the time it
    is held bounds how many writes commit per second: sent one by one, each of the three statements
    was followed by a wait for the interpreter lock, and a process busy with other requests made
    that wait last up to its switch interval. Measured under the applications benchmark: the lock
    held 5–10 ms per commit at the median, writers queued 14–18 ms for it."""
    driver = driver_of(connection)
    dialect = connection.dialect
    entries, head = _DRIVER_INSERT.form(dialect), _DRIVER_MOVE_HEAD.form(dialect)
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            cursor.executemany(entries.sql, [entries.values(row) for row in rows])
            cursor.execute(head.sql, head.values({"new_hash": head_hash}))
            driver.commit()
    except dialect.loaded_dbapi.Error as error:
        raise driver_error(dialect, driver, entries.sql, rows, error) from error


# Built once: every committing write runs them.
_EVENTS = cast(Table, AuditEvent.__table__)  # declared with a table: SQLAlchemy types it as any FromClause
_COLUMNS = [column.key for column in _EVENTS.columns]
_INSERT = insert(_EVENTS)
# Core statements on the table: the ORM's bulk-update machinery would cost more than they do.
_HEAD = cast(Table, AuditChainHead.__table__)
_TAKE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + bindparam("count", type_=BigInteger))
              .returning(_HEAD.c.seq, _HEAD.c.hash))
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))


# The same two as the driver takes them, for ``_write_and_commit``.
_DRIVER_INSERT = DriverStatement(insert(_EVENTS).values({column: bindparam(column) for column in _COLUMNS}))
_DRIVER_MOVE_HEAD = DriverStatement(_MOVE_HEAD)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(db: Session, transaction) -> None:
    # Rolled back or closed without a commit: the entries go with the transaction's other writes.
    if transaction.parent is None:
        db.info.pop(PENDING_WRITES, None)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    kind: str  # altered | deleted | inserted | truncated
    message: str


@dataclass(frozen=True)
class Verification:
    entries: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(db: Session, *, key: bytes | None = None, progress=None) -> Verification:
    """Walk the chain from the start; report the first entry that is not as it was written."""
    key = key or _current_key()
    head = db.get(AuditChainHead, 1)
    stream = db.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)).scalars()
    previous: AuditEvent | None = None
    expected_prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    pending: AuditEvent | None = None  # an entry whose digest failed, judged by the one after it

    def judge_mismatch(bad: AuditEvent, following: AuditEvent | None) -> ChainBreak:
        if following is not None and following.prev_hash == bad.hash:
            return ChainBreak(bad.seq, "altered", f"第 {bad.seq} 条审计记录的内容被修改（哈希不符）")
        if following is not None and following.prev_hash == expected_before(bad):
            return ChainBreak(bad.seq, "inserted", f"第 {bad.seq} 条审计记录是插入的（后一条并不链接到它）")
        return ChainBreak(bad.seq, "altered", f"第 {bad.seq} 条审计记录与哈希链不符（被修改或插入）")

    prev_hash_of: dict[int, str] = {}

    def expected_before(entry: AuditEvent) -> str:
        return prev_hash_of.get(entry.seq, GENESIS_HASH)

    for entry in stream:
        count += 1
        if progress is not None:
            progress(count)
        if pending is not None:
            return Verification(count, judge_mismatch(pending, entry))
        if entry.seq > expected_seq:
            missing = expected_seq if entry.seq == expected_seq + 1 else f"{expected_seq}–{entry.seq - 1}"
            return Verification(count, ChainBreak(expected_seq, "deleted", f"第 {missing} 条审计记录被删除（序号缺失）"))
        if entry.seq < expected_seq:
            return Verification(count, ChainBreak(entry.seq, "inserted", f"第 {entry.seq} 条审计记录重复（插入）"))
        prev_hash_of[entry.seq] = expected_prev_hash
        if entry.prev_hash != expected_prev_hash:
            if previous is not None and entry.prev_hash != previous.hash:
                return Verification(count, ChainBreak(entry.seq, "deleted", f"第 {entry.seq} 条之前的审计记录被删除或重排（链接断开）"))
        if _entry_digest(key, entry.prev_hash, entry) != entry.hash:
            pending = entry
            continue
        previous = entry
        expected_prev_hash = entry.hash
        expected_seq += 1
    if pending is not None:
        if head is not None and head.seq >= pending.seq and head.hash == pending.hash:
            return Verification(count, ChainBreak(pending.seq, "altered", f"第 {pending.seq} 条审计记录的内容被修改（哈希不符）"))
        kind = "inserted" if head is not None and head.seq < pending.seq else "altered"
        label = "是插入的（不在哈希链中）" if kind == "inserted" else "与哈希链不符（被修改）"
        return Verification(count, ChainBreak(pending.seq, kind, f"第 {pending.seq} 条审计记录{label}"))
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != expected_prev_hash):
        if head.seq > last_seq:
            return Verification(count, ChainBreak(last_seq + 1, "truncated", f"第 {last_seq + 1} 条及之后的审计记录被删除（日志末尾缺失）"))
        return Verification(count, ChainBreak(last_seq, "inserted", f"第 {head.seq + 1} 条审计记录是插入的（不在哈希链中）"))
    return Verification(count, None)


# ------------------------------------------------------------------ how people read an entry
# The one place an audit action gets its Chinese name (the log keeps the stable code; pages
# and exports show the name). An action added later without a name here still reads as its
# domain's work, never as a code: see ``action_label``.
ACTION_LABELS: dict[str, str] = {
    "auth.sign_in": "登录", "auth.sign_out": "退出登录", "auth.sign_out_everywhere": "退出所有设备",
    "auth.client_credentials": "业务系统获取令牌", "auth.revoke_token": "注销访问令牌",
    "accounts.change_password": "修改密码", "accounts.register_citizen": "注册个人账户",
    "accounts.register_enterprise": "注册企业账户", "accounts.bind_enterprise": "绑定企业账户",
    "accounts.code_register": "发送注册验证码", "accounts.code_recover": "发送找回密码验证码",
    "accounts.code_confirm": "核对验证码", "accounts.reclaimed": "收回被冒用的账户",
    "accounts.verified_register": "实名核验（注册）", "accounts.verified_recover": "实名核验（找回密码）",
    "users.create": "创建人员账户", "users.list": "查看部门人员", "users.enable": "启用人员账户",
    "users.disable": "停用人员账户", "users.reset_password": "重置人员密码", "users.revoke_sessions": "结束人员会话",
    "clients.create": "登记业务系统", "clients.enable": "启用业务系统", "clients.disable": "停用业务系统",
    "clients.rotate_secret": "更换业务系统密钥",
    "departments.create": "新建部门", "departments.update": "修改机构信息", "calendar.publish_year": "发布年度工作日历",
    "audit.read": "查看审计日志", "audit.verify": "校验哈希链", "demo.load": "载入演示数据",
    "registry.read": "查询基础库", "registry.create": "新增基础库记录", "registry.change": "修改基础库记录",
    "registry.import": "批量导入基础库", "registry.corrections": "查看纠错申请",
    "registry.correction.request": "提出纠错", "registry.correction.accepted": "采纳纠错",
    "registry.correction.rejected": "不予采纳纠错",
    "catalog.create": "登记共享资源", "catalog.update": "修改共享资源", "catalog.status": "变更资源状态",
    "catalog.draft": "资源改为草稿", "catalog.published": "发布共享资源", "catalog.withdrawn": "撤回共享资源",
    "catalog.push": "推送数据集",
    "sharing.request": "提出共享申请", "sharing.read": "查看共享申请", "sharing.list": "查看共享申请列表",
    "sharing.provider_decide": "提供部门审核共享申请", "sharing.decide": "审核共享申请",
    "sharing.coordinate": "协调共享争议", "sharing.arbitrate": "裁决共享争议", "sharing.revoke": "撤销共享授权",
    "sharing.grants": "查看共享授权", "sharing.overdue": "共享申请逾期",
    "exchange.subscribe": "订阅数据变更", "exchange.unsubscribe": "取消订阅", "exchange.replay": "重新投递",
    "exchange.subscription.read": "查看订阅", "exchange.dead_letters": "查看投递失败的消息",
    "exchange.dead_letter.replay": "重新投递失败的消息", "usage.read": "查看数据使用情况",
    "items.draft": "保存事项草稿", "items.submit": "提交事项审核", "items.publish": "发布事项",
    "items.return": "退回事项", "items.versions": "查看事项版本", "items.import": "导入事项",
    "items.edit": "编辑事项", "items.synonym": "保存搜索同义词", "items.synonym_delete": "删除搜索同义词",
    "consultation.read": "查看咨询", "consultation.read_contact": "查看咨询人联系方式",
    "consultation.answer": "答复咨询", "consultation.promote": "答复收入常见问题",
    "process.upload": "上传审批流程",
    "cases.submit": "提交申请", "cases.prefill": "预填申请表", "cases.attach": "上传申请材料",
    "cases.accept": "受理决定", "cases.supply": "补正材料", "cases.read": "查看办件", "cases.claim": "认领待办",
    "cases.decide": "审批决定", "cases.task": "查看待办", "cases.progress": "查看办件进度",
    "cases.attachment.read": "查看申请材料文件", "cases.licence.read": "下载证照", "cases.licence.revoke": "撤销证照",
    "supervision.scan": "扫描办理时限", "supervision.rule": "修改预警规则", "supervision.clock": "查看办理时钟",
    "supervision.clocks": "查看办理时钟列表", "supervision.warnings": "查看预警",
    "supervision.acknowledge": "说明预警", "supervision.dashboard": "查看电子监察看板",
    "supervision.evaluate": "开展部门评估", "supervision.evaluation_detail": "查看评估明细",
    "supervision.publish": "公示评估结果", "supervision.rate": "好差评",
    "supervision.rectification": "查看整改", "supervision.rectifications": "查看整改列表",
    "supervision.follow_up": "记录整改进展", "supervision.close_rectification": "整改办结",
    "disclosure.draft": "起草公开文件", "disclosure.edit": "修改公开文件草稿", "disclosure.attach": "上传公开文件附件",
    "disclosure.submit": "提交保密审查", "disclosure.approve": "保密审查通过", "disclosure.return": "保密审查退回",
    "disclosure.review": "保密审查", "disclosure.publish": "发布公开文件", "disclosure.change": "变更已公开文件",
    "disclosure.validity": "变更公开文件有效性", "disclosure.withdraw": "撤回公开文件",
    "disclosure.read": "查看未公开文件", "disclosure.subscribe": "订阅公开信息", "disclosure.unsubscribe": "取消订阅公开信息",
    "disclosure.request.file": "提出政府信息公开申请", "disclosure.request.read": "查看政府信息公开申请",
    "disclosure.request.letter": "下载信息公开告知书", "disclosure.request.correction_notice": "告知补正信息公开申请",
    "disclosure.request.correct": "补正信息公开申请", "disclosure.request.abandon": "信息公开申请视为放弃",
    "disclosure.request.extension": "延长信息公开答复期限", "disclosure.request.consultation": "征求第三方意见",
    "disclosure.request.consultation_answered": "记录第三方意见", "disclosure.request.transfer": "转送信息公开申请",
    "disclosure.request.reply": "答复信息公开申请", "disclosure.request.fee_waive": "减免信息处理费",
    "disclosure.request.remedy": "记录行政复议或诉讼",
    "hotline.analysis.read": "查看热线分析",
    "grid.import": "导入单元网格", "grid.components.import": "导入部件普查成果", "grid.category.update": "修改城管问题分类",
    "grid.route.set": "设置处置部门", "grid.case.report": "上报城管问题", "grid.case.register": "城管案件立案",
    "grid.case.reject": "城管案件不予立案", "grid.case.merge": "合并重复上报", "grid.case.dispatch": "派遣城管案件",
    "grid.case.return": "退回城管案件", "grid.case.handle": "处置城管案件并反馈", "grid.case.verify": "核查结案",
    "grid.case.rework": "核查未通过，返工", "grid.case.read": "查看城管案件", "grid.case.read_contact": "查看举报人联系方式",
    "grid.case.read_photo": "查看城管案件照片原图",
    "grid.evaluation.read": "查看城管综合评价", "grid.open311.report": "Open311 上报",
    "grid.open311.client.create": "新建 Open311 接入密钥", "grid.open311.client.activate": "启用 Open311 接入",
    "grid.open311.client.deactivate": "停用 Open311 接入",
    "grid.case.answer": "热线工单直接办结", "grid.case.transfer": "热线工单转专线", "grid.case.sign": "签收热线工单",
    "grid.case.extend_request": "申请工单延期", "grid.case.extend_approve": "同意工单延期",
    "grid.case.extend_refuse": "不同意工单延期", "grid.case.urge": "督办热线工单", "grid.case.follow_up": "回访办结热线工单",
    "grid.case.reopen": "回访未解决，重新交办", "hotline.ticket.read": "查看热线工单",
    "hotline.ticket.read_contact": "查看来电人完整号码", "hotline.ticket.dispatch": "热线工单重新派单",
    "hotline.ticket.extend": "审批工单延期", "hotline.ticket.urge": "督办热线工单", "hotline.ticket.follow_up": "回访热线工单",
    "hotline.classifier.retrain": "重新训练热线分类模型",
    "mailbox.letter.write": "写信（领导信箱）", "mailbox.letter.answer": "直接答复来信", "mailbox.letter.assign": "交办来信",
    "mailbox.letter.reply": "部门答复来信", "mailbox.letter.send": "审核并答复来信", "mailbox.letter.return": "退回部门重新办理来信",
    "mailbox.letter.leader": "来信呈报领导", "mailbox.letter.publish": "选登来信", "mailbox.letter.read": "查看来信",
    "mailbox.letter.read_writer": "查看来信人信息",
    "participation.topic.create": "新建政民互动事项", "participation.topic.update": "修改政民互动事项",
    "participation.topic.publish": "发布政民互动事项", "participation.topic.close": "提前结束政民互动事项",
    "participation.results.publish": "公布调查结果", "participation.summary.publish": "公布意见采纳情况或访谈实录",
    "participation.question.answer": "答复访谈问题", "participation.attachment.upload": "上传征求意见稿",
    "participation.survey.respond": "参加网上调查", "participation.comment.create": "提交意见或访谈问题",
    "participation.comment.read": "查看意见和访谈问题",
    "policies.create": "起草政策", "policies.update_draft": "修改政策草稿", "policies.publish": "审核发布政策",
    "policies.withdraw": "撤回政策", "policies.save_profile": "保存条件画像", "policies.read_matches": "查看政策匹配名单",
    "policies.set_contact": "记录政策告知和申报状态",
}

# The domains, for an action that has no name of its own yet.
ACTION_DOMAINS: dict[str, str] = {
    "auth": "登录认证", "accounts": "账户", "users": "人员账户", "clients": "业务系统", "departments": "机构",
    "calendar": "工作日历", "audit": "审计日志", "demo": "演示数据", "registry": "基础库", "catalog": "资源目录",
    "sharing": "数据共享", "exchange": "数据交换", "usage": "数据使用", "items": "办事事项",
    "consultation": "咨询", "process": "审批流程", "cases": "办件", "supervision": "电子监察",
    "notifications": "通知", "disclosure": "政府信息公开", "grid": "城市网格化管理",
    "mailbox": "领导信箱",
    "participation": "政民互动", "policies": "政策匹配",
}

# A refused request is recorded as "METHOD /path": what the person tried, in words.
_METHOD_LABELS = {"GET": "访问", "HEAD": "访问", "POST": "提交", "PUT": "修改", "PATCH": "修改", "DELETE": "删除"}

OBJECT_LABELS: dict[str, str] = {
    "user": "账户", "api_client": "业务系统", "token": "访问令牌", "department": "部门", "person": "人员",
    "persons": "人口库", "legal_entities": "法人库", "addresses": "地址库", "audit_events": "审计日志",
    "calendar_year": "年度日历", "resource": "共享资源", "sharing_request": "共享申请", "grant": "共享授权",
    "subscription": "订阅", "service_item": "办事事项", "service_items": "办事事项", "search_synonym": "同义词",
    "consultation": "咨询", "item_faq": "常见问题", "process_definition": "审批流程", "application": "办件", "licence": "证照",
    "correction_request": "纠错申请", "import_job": "导入任务", "supervision_rule": "预警规则",
    "supervision_scan": "时限扫描", "supervision_warning": "预警", "evaluation_period": "评估期",
    "rectification": "整改", "citizen": "自然人", "enterprise": "法人", "staff": "工作人员", "system": "业务系统",
    "hotline_analysis": "热线分析",
    "hotline_classifier_version": "热线分类模型版本",
    "grid_case": "城管案件", "grid_version": "单元网格版本", "grid_category": "城管问题分类", "grid_route": "处置部门设置",
    "grid_components": "部件普查成果", "grid_evaluation": "城管综合评价", "open311_client": "Open311 接入",
    "disclosure_document": "公开文件", "disclosure_subscription": "公开信息订阅", "disclosure_request": "政府信息公开申请",
    "mailbox_letter": "领导信箱来信",
    "participation_topic": "政民互动事项",
    "policy": "政策", "policy_profile": "条件画像",
}


def action_label(action: str) -> str:
    """An audit action in Chinese: its own name, else what kind of work it was (never the code)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    method, _, path = action.partition(" ")
    if path.startswith("/"):  # the route's template: its parameters' names are code, not words
        return f"{_METHOD_LABELS.get(method, '请求')} {re.sub(r'{[^}]*}', '…', path)}"
    domain = action.split(".", 1)[0]
    return f"{ACTION_DOMAINS.get(domain, '其他')}操作"


def object_label(object_type: str | None) -> str:
    """What an entry is about, in Chinese (empty for none; an unnamed kind reads as 对象)."""
    if not object_type:
        return ""
    return OBJECT_LABELS.get(object_type, "对象")
