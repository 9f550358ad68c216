"""A request for disclosure (依申请公开), what happened to it, and the review and litigation it met.

The request keeps its facts and its state; its deadlines are supervision's clocks (the 补正 notice
and the reply), never copied here; each letter it produced is an event whose details are the
letter's content, so a letter printed again reads exactly as sent.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime


class ApplicantCategory(StrEnum):
    """The applicant columns of the annual report's national format (国办公开办函〔2021〕30号)."""

    NATURAL = "natural"
    COMMERCIAL = "commercial"
    RESEARCH = "research"
    PUBLIC_INTEREST = "public_interest"
    LEGAL_SERVICE = "legal_service"
    OTHER = "other"


CATEGORY_LABELS: dict[str, str] = {
    ApplicantCategory.NATURAL: "自然人", ApplicantCategory.COMMERCIAL: "商业企业", ApplicantCategory.RESEARCH: "科研机构",
    ApplicantCategory.PUBLIC_INTEREST: "社会公益组织", ApplicantCategory.LEGAL_SERVICE: "法律服务机构",
    ApplicantCategory.OTHER: "其他"}


class Channel(StrEnum):
    ONLINE = "online"  # 网络: filed on the portal, signed in
    LETTER = "letter"  # 信函: recorded by staff from the letter
    VISIT = "visit"  # 当面: recorded by staff at the office


CHANNEL_LABELS: dict[str, str] = {Channel.ONLINE: "网上申请", Channel.LETTER: "信函申请", Channel.VISIT: "当面申请"}


class Delivery(StrEnum):
    """条例第二十九条: the form in which the applicant wants the information."""

    ONLINE = "online"
    EMAIL = "email"
    POST = "post"
    PICKUP = "pickup"


DELIVERY_LABELS: dict[str, str] = {Delivery.ONLINE: "网上获取（在本平台下载）", Delivery.EMAIL: "电子邮件",
                                   Delivery.POST: "邮寄纸质件", Delivery.PICKUP: "当面领取"}


class RequestStatus(StrEnum):
    PROCESSING = "processing"  # 办理中: the reply clock runs
    CORRECTING = "correcting"  # 待补正: the one 补正 notice was sent (条例第三十条)
    CONSULTING = "consulting"  # 征求第三方意见: the reply clock stands still (第三十二条、第三十三条第二款)
    ANSWERED = "answered"  # 已答复
    ABANDONED = "abandoned"  # 视为放弃: no correction in time (第三十条)


STATUS_LABELS: dict[str, str] = {
    RequestStatus.PROCESSING: "办理中", RequestStatus.CORRECTING: "待补正", RequestStatus.CONSULTING: "征求第三方意见中",
    RequestStatus.ANSWERED: "已答复", RequestStatus.ABANDONED: "视为放弃申请"}
OPEN_STATUSES = (RequestStatus.PROCESSING, RequestStatus.CORRECTING, RequestStatus.CONSULTING)


class ReplyType(StrEnum):
    """The replies of 条例第三十六条 (its seven items), with 第三十七条's partial disclosure, 第三十八条's
    information that would have to be made, and 第三十九条's requests that are not disclosure requests."""

    ALREADY_PUBLIC = "already_public"  # 第三十六条第（一）项: tell where it is published
    DISCLOSED = "disclosed"  # 第（二）项: provided
    PARTIAL = "partial"  # 第三十七条: the parts that can be disclosed, the rest withheld with grounds
    WITHHELD = "withheld"  # 第（三）项: not disclosed, with the ground
    NOT_EXIST = "not_exist"  # 第（四）项: no such information after search
    NOT_OURS = "not_ours"  # 第（五）项: another organ's to disclose — its name and contact
    REPEAT = "repeat"  # 第（六）项: already answered, the same information asked again
    SPECIAL_LAW = "special_law"  # 第（七）项: 工商、不动产登记资料 etc. under their own law
    NEEDS_CREATION = "needs_creation"  # 第三十八条: would need processing or analysis to make
    NOT_PROCESSED = "not_processed"  # 第三十九条: 信访、投诉、举报, or asking for publications
    STILL_UNCLEAR = "still_unclear"  # 第三十条: corrected once and still not clear what is asked


REPLY_LABELS: dict[str, str] = {
    ReplyType.ALREADY_PUBLIC: "已主动公开，告知获取途径", ReplyType.DISCLOSED: "予以公开", ReplyType.PARTIAL: "部分公开",
    ReplyType.WITHHELD: "不予公开", ReplyType.NOT_EXIST: "信息不存在", ReplyType.NOT_OURS: "非本机关负责公开",
    ReplyType.REPEAT: "重复申请，不予重复处理", ReplyType.SPECIAL_LAW: "依照有关法律、行政法规办理",
    ReplyType.NEEDS_CREATION: "需另行制作，不予提供", ReplyType.NOT_PROCESSED: "不作为政府信息公开申请处理",
    ReplyType.STILL_UNCLEAR: "补正后申请内容仍不明确，无法提供"}
REPLY_ARTICLES: dict[str, str] = {
    ReplyType.ALREADY_PUBLIC: "第三十六条第（一）项", ReplyType.DISCLOSED: "第三十六条第（二）项",
    ReplyType.PARTIAL: "第三十七条", ReplyType.WITHHELD: "第三十六条第（三）项", ReplyType.NOT_EXIST: "第三十六条第（四）项",
    ReplyType.NOT_OURS: "第三十六条第（五）项", ReplyType.REPEAT: "第三十六条第（六）项",
    ReplyType.SPECIAL_LAW: "第三十六条第（七）项", ReplyType.NEEDS_CREATION: "第三十八条",
    ReplyType.NOT_PROCESSED: "第三十九条", ReplyType.STILL_UNCLEAR: "第三十条"}


class WithholdingGround(StrEnum):
    """Why information is not disclosed (条例第十四条至第十六条), as the annual report counts them."""

    STATE_SECRET = "state_secret"
    LAW_FORBIDS = "law_forbids"
    SECURITY_STABILITY = "security_stability"
    THIRD_PARTY = "third_party"
    INTERNAL_AFFAIRS = "internal_affairs"
    DELIBERATIVE = "deliberative"
    ENFORCEMENT_FILE = "enforcement_file"


GROUND_LABELS: dict[str, str] = {
    WithholdingGround.STATE_SECRET: "属于国家秘密（第十四条）",
    WithholdingGround.LAW_FORBIDS: "其他法律行政法规禁止公开（第十四条）",
    WithholdingGround.SECURITY_STABILITY: "危及“三安全一稳定”（第十四条）",
    WithholdingGround.THIRD_PARTY: "保护第三方合法权益（第十五条）",
    WithholdingGround.INTERNAL_AFFAIRS: "属于三类内部事务信息（第十六条第一款）",
    WithholdingGround.DELIBERATIVE: "属于四类过程性信息（第十六条第二款）",
    WithholdingGround.ENFORCEMENT_FILE: "属于行政执法案卷（第十六条第二款）"}


class NotProcessedReason(StrEnum):
    """第三十九条 and 第三十五条: the report's 不予处理 rows (a repeat request is its own reply)."""

    PETITION = "petition"  # 信访、投诉、举报
    PUBLICATION = "publication"  # 要求提供公开出版物
    CONFIRMATION = "confirmation"  # 要求行政机关确认或重新出具已获取信息
    EXCESSIVE = "excessive"  # 第三十五条: far more requests, or far more often, than reasonable, with no good reason


NOT_PROCESSED_LABELS: dict[str, str] = {
    NotProcessedReason.PETITION: "以政府信息公开申请形式进行信访、投诉、举报",
    NotProcessedReason.PUBLICATION: "要求提供政府公报、报刊、书籍等公开出版物",
    NotProcessedReason.CONFIRMATION: "要求行政机关确认或重新出具已获取的信息",
    NotProcessedReason.EXCESSIVE: "申请公开政府信息的数量、频次明显超过合理范围且说明的理由不合理"}
# The article a 不予处理 reply rests on: 第三十九条, but 第三十五条 for an unreasonable number of requests.
NOT_PROCESSED_ARTICLES: dict[str, str] = {NotProcessedReason.EXCESSIVE: "第三十五条"}


class RemedyKind(StrEnum):
    REVIEW = "review"  # 行政复议
    LAWSUIT = "lawsuit"  # 行政诉讼, not reviewed first (未经复议直接起诉)
    LAWSUIT_AFTER_REVIEW = "lawsuit_after_review"  # 复议后起诉


REMEDY_LABELS: dict[str, str] = {RemedyKind.REVIEW: "行政复议", RemedyKind.LAWSUIT: "行政诉讼（未经复议直接起诉）",
                                 RemedyKind.LAWSUIT_AFTER_REVIEW: "行政诉讼（复议后起诉）"}


class RemedyResult(StrEnum):
    UPHELD = "upheld"
    CORRECTED = "corrected"
    OTHER = "other"
    PENDING = "pending"


RESULT_LABELS: dict[str, str] = {RemedyResult.UPHELD: "结果维持", RemedyResult.CORRECTED: "结果纠正",
                                 RemedyResult.OTHER: "其他结果", RemedyResult.PENDING: "尚未审结"}

# Every letter a request can produce (an event of that action carries the letter's content).
LETTER_TITLES: dict[str, str] = {
    "correction_notice": "政府信息公开申请补正告知书",
    "extension": "政府信息公开申请延期答复告知书",
    "reply": "政府信息公开申请答复告知书",
    "transfer": "政府信息公开申请转送告知书",
}
EVENT_LABELS: dict[str, str] = {
    "filed": "提交申请", "correction_notice": "告知补正", "corrected": "收到补正", "abandoned": "逾期未补正，视为放弃",
    "extension": "延长答复期限", "consultation": "书面征求第三方意见", "consultation_answered": "第三方意见已收到",
    "transfer": "转送其他机关", "transferred_in": "收到转送申请", "reply": "作出答复", "fee_waived": "减免信息处理费",
    "remedy": "记录行政复议或行政诉讼"}


class DisclosureRequest(Base):
    __tablename__ = "disclosure_requests"
    __table_args__ = (
        # The queue: a department's open requests; the fee: an applicant's requests of a month.
        Index("ix_disclosure_requests_department_status", "department_id", "status"),
        Index("ix_disclosure_requests_applicant_filed", "applicant_key", "filed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # GK-20261012-7K3M9Q
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))  # the organ that answers it now
    channel: Mapped[str] = mapped_column(String(8))
    applicant_category: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(128))
    applicant_key: Mapped[str] = mapped_column(String(18))  # resident ID or credit code: who "the same applicant" is
    applicant_account: Mapped[str | None] = mapped_column(String(64), index=True)  # the portal account, if online
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_address: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(1000))
    delivery: Mapped[str] = mapped_column(String(8))
    normalised: Mapped[str] = mapped_column(String(2000))  # the description as compared for repeats
    repeat_of: Mapped[str | None] = mapped_column(String(32))  # the earlier answered request it seems to repeat
    status: Mapped[str] = mapped_column(String(12), default=RequestStatus.PROCESSING)
    filed_on: Mapped[date] = mapped_column(Date)  # the Beijing day it was received (条例第三十一条)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_on: Mapped[date] = mapped_column(Date)  # the day the reply clock counts from: receipt, correction or transfer
    clock_round: Mapped[int] = mapped_column(Integer, default=1)  # each restart of the clocks is a new round
    correction_due_on: Mapped[date | None] = mapped_column(Date)
    consultation_due_on: Mapped[date | None] = mapped_column(Date)
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    fee_ordinal: Mapped[int] = mapped_column(Integer)  # the applicant's n-th request of the calendar month
    fee_yuan: Mapped[int] = mapped_column(Integer)  # 国办函〔2020〕109号, by request
    fee_waived: Mapped[bool] = mapped_column(default=False)
    fee_waiver_reason: Mapped[str | None] = mapped_column(String(500))
    reply_type: Mapped[str | None] = mapped_column(String(16))
    reply_ground: Mapped[str | None] = mapped_column(String(24))  # withholding ground / not-processed reason
    concluded_on: Mapped[date | None] = mapped_column(Date)  # answered or abandoned
    recorded_by: Mapped[str] = mapped_column(String(64))  # the account that filed it (applicant or staff)

    department: Mapped[Any] = relationship("Department", lazy="joined")  # org's model, by its name


class DisclosureEvent(Base):
    """What happened to a request, by whom; a letter's content is its ``details`` (JSON)."""

    __tablename__ = "disclosure_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_requests.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))  # whose act (a transfer changes it)
    details: Mapped[str] = mapped_column(Text, default="{}")


class DisclosureRemedy(Base):
    """A 行政复议 or 行政诉讼 against a reply, with its result as it becomes known."""

    __tablename__ = "disclosure_remedies"
    __table_args__ = (UniqueConstraint("request_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    filed_on: Mapped[date] = mapped_column(Date)  # the year it counts in
    result: Mapped[str] = mapped_column(String(12))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
