"""Permissions and the roles that grant them.

Every route declares one permission (see ``tongban.core.auth.require``). A role grants a
permission either platform-wide (ALL), within the holder's own department (DEPARTMENT), or
for the holder's own records only (SELF).
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    PUBLIC = "public"  # no sign-in needed; declared explicitly all the same
    SELF_READ = "self:read"  # one's own account
    SELF_MANAGE = "self:manage"  # one's own password, sessions, real-name binding (people, not systems)
    ORG_MANAGE = "org:manage"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    CLIENTS_MANAGE = "clients:manage"
    AUDIT_READ = "audit:read"
    CALENDAR_MANAGE = "calendar:manage"
    WORKBENCH = "workbench:use"
    REGISTRY_READ = "registry:read"  # masked personal fields
    REGISTRY_READ_PERSONAL = "registry:read_personal"  # clear personal fields, with a stated purpose
    REGISTRY_WRITE = "registry:write"  # only the fields the department is the source of
    REGISTRY_IMPORT = "registry:import"
    CORRECTION_REQUEST = "correction:request"
    CORRECTION_DECIDE = "correction:decide"
    CATALOG_READ = "catalog:read"
    CATALOG_MANAGE = "catalog:manage"  # register and edit resources (a department: its own)
    SHARING_REQUEST = "sharing:request"  # ask for items of a resource (for one's own department)
    SHARING_DECIDE = "sharing:decide"  # answer requests to one's resources; revoke their grants
    SHARING_ARBITRATE = "sharing:arbitrate"  # the e-government office decides disputes
    EXCHANGE_READ = "exchange:read"  # read shared data under the department's grants
    EXCHANGE_PUSH = "exchange:push"  # push records of the department's own datasets
    USAGE_READ = "usage:read"  # who uses which resource (providers: theirs)
    NOTIFICATIONS_READ = "notifications:read"
    ITEMS_MANAGE = "items:manage"  # write drafts of service items (a department: its own) and submit them
    ITEMS_REVIEW = "items:review"  # review submitted item versions and publish them
    SYNONYMS_MANAGE = "synonyms:manage"  # the search synonyms and colloquial phrasings
    CONSULTATION_ANSWER = "consultation:answer"  # answer handed-over questions; promote answers to the FAQ
    CASES_APPLY = "cases:apply"  # apply online for oneself (citizens, enterprises)
    CASES_ACCEPT = "cases:accept"  # the one window: file applications for applicants, accept or refuse them
    CASES_REVIEW = "cases:review"  # claim and decide the department's tasks
    CASES_READ = "cases:read"  # read applications (a department: those with a task of its own)
    PROCESS_MANAGE = "process:manage"  # upload BPMN process definitions
    SUPERVISION_READ = "supervision:read"  # clocks and warnings (a department: its own)
    SUPERVISION_MANAGE = "supervision:manage"  # warning rules; run the scan
    WARNING_ACKNOWLEDGE = "warning:acknowledge"  # explain a warning (SELF: one's own clocks; a head: the department's)
    EVALUATION_READ = "evaluation:read"  # evaluations, the dashboard, ratings and rectifications (a head: the department's)
    EVALUATION_RUN = "evaluation:run"  # compute a period's evaluations and publish them on the portal
    RATING_SUBMIT = "rating:submit"  # 好差评: rate one's own finished application
    RECTIFICATION_HANDLE = "rectification:handle"  # record the department's 整改 follow-ups and close them
    DISCLOSURE_DRAFT = "disclosure:draft"  # draft documents for proactive disclosure (a department: its own)
    DISCLOSURE_REVIEW = "disclosure:review"  # 保密审查 of another person's draft: approve or return
    DISCLOSURE_PUBLISH = "disclosure:publish"  # publish reviewed documents, change or withdraw published ones
    DISCLOSURE_APPLY = "disclosure:apply"  # 依申请公开: request government information for oneself
    DISCLOSURE_HANDLE = "disclosure:handle"  # the disclosure office: work and answer the department's requests
    DISCLOSURE_EXTEND = "disclosure:extend"  # the head of the disclosure office approves an extension (条例第三十三条)
    DISCLOSURE_REPORT = "disclosure:report"  # the annual report of a year not yet ended (a department: its own)
    GRID_READ = "grid:read"  # the map, cells, components and city-management cases (a department: its own cases)
    GRID_REPORT = "grid:report"  # 信息收集 and 核查: a grid supervisor reports problems and checks them on site
    GRID_COMMAND = "grid:command"  # 城运中心: register (立案), reject, merge and dispatch (派遣) cases
    GRID_HANDLE = "grid:handle"  # a department handles the cases dispatched to it, or returns them
    GRID_MANAGE = "grid:manage"  # the unit grid, the categories, routing, the components census, Open311 clients
    GRID_PUBLIC_REPORT = "grid:public_report"  # 公众举报 (随手拍): a resident or enterprise reports a problem, follows its own
    HOTLINE_ANSWER = "hotline:answer"  # 12345 热线受理: take calls; the category and department proposed while typing
    HOTLINE_HANDLE = "hotline:handle"  # a department signs for, handles and answers the tickets dispatched to it
    HOTLINE_CENTRE = "hotline:centre"  # 热线中心: re-route returned tickets, decide extensions, urge, follow up
    HOTLINE_OWN = "hotline:own"  # a resident follows the 12345 tickets of calls in which they gave their resident ID
    MAILBOX_WRITE = "mailbox:write"  # 领导信箱: a signed-in resident or enterprise reads its own letters (我的来信)
    MAILBOX_HANDLE = "mailbox:handle"  # 信访办: answer letters, assign them to departments, review, send and publish
    MAILBOX_REPLY = "mailbox:reply"  # a department replies to the letters assigned to it
    PARTICIPATION_MANAGE = "participation:manage"  # 政民互动: the department's surveys, comment solicitations and interviews
    PARTICIPATION_TAKE = "participation:take"  # answer a survey as oneself (one response per account)
    POLICIES_MANAGE = "policies:manage"  # 智能匹配: draft the department's policies; follow who qualifies (told, applied, awarded)
    POLICIES_REVIEW = "policies:review"  # review and publish (or withdraw) the department's policies, never one's own draft
    POLICIES_OWN = "policies:own"  # a resident or enterprise sees the policies it qualifies for, and why

    @property
    def label(self) -> str:
        """The permission's Chinese name, as pages show it (the value is for programs)."""
        return PERMISSION_LABELS[self]


# How a refusal names a permission to a person (pages and problem details); programs read the value.
PERMISSION_LABELS: dict[Permission, str] = {
    Permission.PUBLIC: "公开访问",
    Permission.SELF_READ: "查看本人账户",
    Permission.SELF_MANAGE: "管理本人账户",
    Permission.ORG_MANAGE: "管理机构",
    Permission.USERS_READ: "查看人员",
    Permission.USERS_MANAGE: "管理人员账户",
    Permission.CLIENTS_MANAGE: "管理部门业务系统",
    Permission.AUDIT_READ: "查看审计日志",
    Permission.CALENDAR_MANAGE: "管理工作日历",
    Permission.WORKBENCH: "使用工作台",
    Permission.REGISTRY_READ: "查询基础库",
    Permission.REGISTRY_READ_PERSONAL: "查看个人信息明文",
    Permission.REGISTRY_WRITE: "维护基础库",
    Permission.REGISTRY_IMPORT: "批量导入基础库",
    Permission.CORRECTION_REQUEST: "提出纠错",
    Permission.CORRECTION_DECIDE: "处理纠错申请",
    Permission.CATALOG_READ: "查看资源目录",
    Permission.CATALOG_MANAGE: "管理资源目录",
    Permission.SHARING_REQUEST: "申请共享",
    Permission.SHARING_DECIDE: "审核共享申请",
    Permission.SHARING_ARBITRATE: "共享争议裁决",
    Permission.EXCHANGE_READ: "读取共享数据",
    Permission.EXCHANGE_PUSH: "推送本部门数据",
    Permission.USAGE_READ: "查看使用情况",
    Permission.NOTIFICATIONS_READ: "查看通知",
    Permission.ITEMS_MANAGE: "编辑办事事项",
    Permission.ITEMS_REVIEW: "审核发布办事事项",
    Permission.SYNONYMS_MANAGE: "管理搜索同义词",
    Permission.CONSULTATION_ANSWER: "答复咨询",
    Permission.CASES_APPLY: "在线申请办事",
    Permission.CASES_ACCEPT: "窗口受理",
    Permission.CASES_REVIEW: "审批办件",
    Permission.CASES_READ: "查看办件",
    Permission.PROCESS_MANAGE: "管理审批流程",
    Permission.SUPERVISION_READ: "查看监察信息",
    Permission.SUPERVISION_MANAGE: "管理预警规则",
    Permission.WARNING_ACKNOWLEDGE: "说明预警",
    Permission.EVALUATION_READ: "查看评估",
    Permission.EVALUATION_RUN: "开展评估并公示",
    Permission.RATING_SUBMIT: "好差评",
    Permission.RECTIFICATION_HANDLE: "处理整改",
    Permission.DISCLOSURE_DRAFT: "起草公开文件",
    Permission.DISCLOSURE_REVIEW: "公开文件保密审查",
    Permission.DISCLOSURE_PUBLISH: "发布和撤回公开文件",
    Permission.DISCLOSURE_APPLY: "申请政府信息公开",
    Permission.DISCLOSURE_HANDLE: "办理政府信息公开申请",
    Permission.DISCLOSURE_EXTEND: "批准延长答复期限",
    Permission.DISCLOSURE_REPORT: "查看信息公开年度报告",
    Permission.POLICIES_MANAGE: "起草政策并跟进符合条件的对象",
    Permission.POLICIES_REVIEW: "审核发布政策",
    Permission.POLICIES_OWN: "查看本人可享受的政策",
    Permission.GRID_READ: "查看城市网格和城管案件",
    Permission.GRID_REPORT: "上报和核查城管问题",
    Permission.GRID_COMMAND: "城管案件立案派遣",
    Permission.GRID_HANDLE: "处置城管案件",
    Permission.GRID_MANAGE: "管理网格、分类和部件",
    Permission.GRID_PUBLIC_REPORT: "随手拍：举报城市管理问题",
    Permission.HOTLINE_ANSWER: "热线受理",
    Permission.HOTLINE_HANDLE: "办理热线工单",
    Permission.HOTLINE_CENTRE: "热线中心派单督办回访",
    Permission.HOTLINE_OWN: "我的 12345 诉求",
    Permission.MAILBOX_WRITE: "领导信箱：我的来信",
    Permission.MAILBOX_HANDLE: "领导信箱办理",
    Permission.MAILBOX_REPLY: "答复领导信箱交办信件",
    Permission.PARTICIPATION_MANAGE: "管理网上调查与征求意见",
    Permission.PARTICIPATION_TAKE: "参与网上调查",
}


class Scope(StrEnum):
    ALL = "all"
    DEPARTMENT = "department"
    SELF = "self"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]


SCOPE_LABELS: dict[Scope, str] = {Scope.ALL: "全平台", Scope.DEPARTMENT: "本部门", Scope.SELF: "本人"}


class Role(StrEnum):
    WINDOW_CLERK = "window_clerk"
    REVIEWER = "reviewer"
    DATA_STEWARD = "data_steward"
    DEPARTMENT_HEAD = "department_head"
    EGOV_ADMIN = "egov_admin"
    INSPECTOR = "inspector"
    GRID_SUPERVISOR = "grid_supervisor"
    HOTLINE_AGENT = "hotline_agent"
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    DEPARTMENT_SYSTEM = "department_system"
    DISCLOSURE_DRAFTER = "disclosure_drafter"
    DISCLOSURE_REVIEWER = "disclosure_reviewer"
    DISCLOSURE_OFFICER = "disclosure_officer"
    DISCLOSURE_HEAD = "disclosure_head"
    GRID_OPERATOR = "grid_operator"
    GRID_HANDLER = "grid_handler"
    LETTERS_OFFICER = "letters_officer"

    @property
    def label(self) -> str:
        """The role's Chinese name, as pages show it (the value is for programs)."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.WINDOW_CLERK: "窗口受理人员",
    Role.REVIEWER: "部门审批人员",
    Role.DATA_STEWARD: "部门数据管理员",
    Role.DEPARTMENT_HEAD: "部门负责人",
    Role.EGOV_ADMIN: "电子政务办管理员",
    Role.INSPECTOR: "电子监察人员",
    Role.GRID_SUPERVISOR: "网格监督员",
    Role.HOTLINE_AGENT: "热线座席",
    Role.CITIZEN: "自然人用户",
    Role.ENTERPRISE: "法人用户",
    Role.DEPARTMENT_SYSTEM: "部门业务系统",
    Role.DISCLOSURE_DRAFTER: "公开文件起草人员",
    Role.DISCLOSURE_REVIEWER: "信息公开保密审查人员",
    Role.DISCLOSURE_OFFICER: "政府信息公开工作人员",
    Role.DISCLOSURE_HEAD: "政府信息公开工作机构负责人",
    Role.GRID_OPERATOR: "城运中心受理派遣员",
    Role.GRID_HANDLER: "城管案件处置人员",
    Role.LETTERS_OFFICER: "信访办工作人员",
}

STAFF_ROLES = frozenset(
    {
        Role.WINDOW_CLERK, Role.REVIEWER, Role.DATA_STEWARD, Role.DEPARTMENT_HEAD,
        Role.EGOV_ADMIN, Role.INSPECTOR, Role.GRID_SUPERVISOR, Role.HOTLINE_AGENT,
        Role.DISCLOSURE_DRAFTER, Role.DISCLOSURE_REVIEWER, Role.DISCLOSURE_OFFICER, Role.DISCLOSURE_HEAD,
        Role.GRID_OPERATOR, Role.GRID_HANDLER, Role.LETTERS_OFFICER,
    }
)

_STAFF_BASE = {
    Permission.SELF_READ: Scope.SELF,
    Permission.SELF_MANAGE: Scope.SELF,
    Permission.WORKBENCH: Scope.DEPARTMENT,
    Permission.REGISTRY_READ: Scope.ALL,
    Permission.CORRECTION_REQUEST: Scope.ALL,
    Permission.CATALOG_READ: Scope.ALL,
    Permission.NOTIFICATIONS_READ: Scope.DEPARTMENT,
}
# Whoever owns clocks sees the department's and explains the warnings of their own.
_CLOCK_OWNER = {Permission.SUPERVISION_READ: Scope.DEPARTMENT, Permission.WARNING_ACKNOWLEDGE: Scope.SELF}
_SOURCE_STEWARD = {
    Permission.REGISTRY_WRITE: Scope.DEPARTMENT,
    Permission.REGISTRY_IMPORT: Scope.DEPARTMENT,
    Permission.CORRECTION_DECIDE: Scope.DEPARTMENT,
    Permission.CATALOG_MANAGE: Scope.DEPARTMENT,
    Permission.SHARING_REQUEST: Scope.DEPARTMENT,
    Permission.SHARING_DECIDE: Scope.DEPARTMENT,
    Permission.EXCHANGE_READ: Scope.DEPARTMENT,
    Permission.EXCHANGE_PUSH: Scope.DEPARTMENT,
    Permission.USAGE_READ: Scope.DEPARTMENT,
    Permission.ITEMS_MANAGE: Scope.DEPARTMENT,
}

# The department's disclosure office (政府信息公开工作机构) works the requests addressed to it.
_DISCLOSURE_OFFICE = {Permission.DISCLOSURE_HANDLE: Scope.DEPARTMENT, Permission.DISCLOSURE_REPORT: Scope.DEPARTMENT}

ROLE_GRANTS: dict[Role, dict[Permission, Scope]] = {
    Role.WINDOW_CLERK: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.REGISTRY_READ_PERSONAL: Scope.ALL,
                        Permission.CONSULTATION_ANSWER: Scope.DEPARTMENT,
                        Permission.CASES_ACCEPT: Scope.ALL, Permission.CASES_READ: Scope.ALL},  # 一窗受理: every item
    Role.REVIEWER: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.REGISTRY_READ_PERSONAL: Scope.ALL,
                    Permission.CONSULTATION_ANSWER: Scope.DEPARTMENT,
                    Permission.CASES_REVIEW: Scope.DEPARTMENT, Permission.CASES_READ: Scope.DEPARTMENT,
                    Permission.HOTLINE_HANDLE: Scope.DEPARTMENT,
                    Permission.MAILBOX_REPLY: Scope.DEPARTMENT,  # 领导信箱: the letters assigned to the department
                    Permission.PARTICIPATION_MANAGE: Scope.DEPARTMENT, Permission.POLICIES_MANAGE: Scope.DEPARTMENT},
    Role.DATA_STEWARD: {**_STAFF_BASE, **_SOURCE_STEWARD, **_CLOCK_OWNER, Permission.REGISTRY_READ_PERSONAL: Scope.ALL},
    Role.DEPARTMENT_HEAD: {**_STAFF_BASE, Permission.USERS_READ: Scope.DEPARTMENT, Permission.USAGE_READ: Scope.DEPARTMENT,
                           Permission.SHARING_REQUEST: Scope.DEPARTMENT, Permission.CASES_REVIEW: Scope.DEPARTMENT,
                           Permission.CASES_READ: Scope.DEPARTMENT, Permission.SUPERVISION_READ: Scope.DEPARTMENT,
                           Permission.WARNING_ACKNOWLEDGE: Scope.DEPARTMENT, Permission.EVALUATION_READ: Scope.DEPARTMENT,
                           Permission.RECTIFICATION_HANDLE: Scope.DEPARTMENT,
                           Permission.DISCLOSURE_REVIEW: Scope.DEPARTMENT, Permission.DISCLOSURE_PUBLISH: Scope.DEPARTMENT,
                           Permission.PARTICIPATION_MANAGE: Scope.DEPARTMENT,
                           Permission.POLICIES_MANAGE: Scope.DEPARTMENT, Permission.POLICIES_REVIEW: Scope.DEPARTMENT},
    Role.EGOV_ADMIN: {
        **_STAFF_BASE,
        Permission.ORG_MANAGE: Scope.ALL,
        Permission.USERS_READ: Scope.ALL,
        Permission.USERS_MANAGE: Scope.ALL,
        Permission.CLIENTS_MANAGE: Scope.ALL,
        Permission.CALENDAR_MANAGE: Scope.ALL,
        Permission.CATALOG_MANAGE: Scope.ALL,
        Permission.SHARING_REQUEST: Scope.ALL,  # to see every request and grant it arbitrates
        Permission.SHARING_DECIDE: Scope.ALL,
        Permission.SHARING_ARBITRATE: Scope.ALL,
        Permission.USAGE_READ: Scope.ALL,
        Permission.NOTIFICATIONS_READ: Scope.ALL,
        Permission.ITEMS_MANAGE: Scope.ALL,
        Permission.ITEMS_REVIEW: Scope.ALL,
        Permission.SYNONYMS_MANAGE: Scope.ALL,
        Permission.CONSULTATION_ANSWER: Scope.ALL,
        Permission.PROCESS_MANAGE: Scope.ALL,
        Permission.CASES_READ: Scope.ALL,
        Permission.SUPERVISION_READ: Scope.ALL,
        Permission.SUPERVISION_MANAGE: Scope.ALL,
        Permission.EVALUATION_READ: Scope.ALL,
        Permission.EVALUATION_RUN: Scope.ALL,
        Permission.DISCLOSURE_REPORT: Scope.ALL,
        Permission.GRID_READ: Scope.ALL,
        Permission.GRID_MANAGE: Scope.ALL,
        Permission.PARTICIPATION_MANAGE: Scope.ALL,
        Permission.POLICIES_MANAGE: Scope.ALL,
        Permission.POLICIES_REVIEW: Scope.ALL,
    },
    Role.INSPECTOR: {**_STAFF_BASE, Permission.AUDIT_READ: Scope.ALL, Permission.USERS_READ: Scope.ALL,
                     Permission.USAGE_READ: Scope.ALL, Permission.CASES_READ: Scope.ALL,
                     Permission.SUPERVISION_READ: Scope.ALL, Permission.SUPERVISION_MANAGE: Scope.ALL,
                     Permission.EVALUATION_READ: Scope.ALL, Permission.EVALUATION_RUN: Scope.ALL,
                     Permission.DISCLOSURE_REPORT: Scope.ALL},
    # 城市网格化管理: supervisors find and check, the centre registers and dispatches, departments handle.
    Role.GRID_SUPERVISOR: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.GRID_READ: Scope.ALL, Permission.GRID_REPORT: Scope.ALL},
    Role.GRID_OPERATOR: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.GRID_READ: Scope.ALL, Permission.GRID_COMMAND: Scope.ALL,
                         Permission.GRID_MANAGE: Scope.ALL, Permission.SUPERVISION_READ: Scope.ALL},
    Role.GRID_HANDLER: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.GRID_READ: Scope.DEPARTMENT,
                        Permission.GRID_HANDLE: Scope.DEPARTMENT, Permission.HOTLINE_HANDLE: Scope.DEPARTMENT},
    # 政府信息公开: who drafts is never who reviews (保密审查 is a second person's, service-enforced);
    # the drafter owns the 20-working-day publication clock of what they draft.
    Role.DISCLOSURE_DRAFTER: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.DISCLOSURE_DRAFT: Scope.DEPARTMENT,
                              Permission.PARTICIPATION_MANAGE: Scope.DEPARTMENT},
    Role.DISCLOSURE_REVIEWER: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.DISCLOSURE_DRAFT: Scope.DEPARTMENT,
                               Permission.DISCLOSURE_REVIEW: Scope.DEPARTMENT,
                               Permission.DISCLOSURE_PUBLISH: Scope.DEPARTMENT, Permission.PARTICIPATION_MANAGE: Scope.DEPARTMENT},
    # 领导信箱: the letters office (信访办) answers, assigns, reviews, sends and publishes every letter.
    Role.LETTERS_OFFICER: {**_STAFF_BASE, **_CLOCK_OWNER, Permission.MAILBOX_HANDLE: Scope.ALL},
    Role.HOTLINE_AGENT: {**_STAFF_BASE, Permission.CONSULTATION_ANSWER: Scope.ALL,  # 12345 answers for every department
                         Permission.HOTLINE_ANSWER: Scope.ALL, Permission.HOTLINE_CENTRE: Scope.ALL},
    Role.CITIZEN: {Permission.SELF_READ: Scope.SELF, Permission.SELF_MANAGE: Scope.SELF, Permission.CASES_APPLY: Scope.SELF,
                   Permission.NOTIFICATIONS_READ: Scope.SELF, Permission.RATING_SUBMIT: Scope.SELF,
                   Permission.DISCLOSURE_APPLY: Scope.SELF, Permission.GRID_PUBLIC_REPORT: Scope.SELF,
                   Permission.MAILBOX_WRITE: Scope.SELF, Permission.PARTICIPATION_TAKE: Scope.SELF,
                   Permission.HOTLINE_OWN: Scope.SELF, Permission.POLICIES_OWN: Scope.SELF},
    Role.ENTERPRISE: {Permission.SELF_READ: Scope.SELF, Permission.SELF_MANAGE: Scope.SELF, Permission.CASES_APPLY: Scope.SELF,
                      Permission.NOTIFICATIONS_READ: Scope.SELF, Permission.RATING_SUBMIT: Scope.SELF,
                      Permission.DISCLOSURE_APPLY: Scope.SELF, Permission.GRID_PUBLIC_REPORT: Scope.SELF,
                      Permission.MAILBOX_WRITE: Scope.SELF, Permission.PARTICIPATION_TAKE: Scope.SELF,
                      Permission.POLICIES_OWN: Scope.SELF},
    Role.DISCLOSURE_OFFICER: {**_STAFF_BASE, **_CLOCK_OWNER, **_DISCLOSURE_OFFICE},
    Role.DISCLOSURE_HEAD: {**_STAFF_BASE, **_CLOCK_OWNER, **_DISCLOSURE_OFFICE, Permission.DISCLOSURE_EXTEND: Scope.DEPARTMENT},
    # Department systems read shared data through the exchange under grants; here they write
    # what their department is the source of.
    Role.DEPARTMENT_SYSTEM: {
        Permission.SELF_READ: Scope.SELF,
        Permission.REGISTRY_READ: Scope.ALL,
        Permission.CORRECTION_REQUEST: Scope.ALL,
        Permission.CATALOG_READ: Scope.ALL,
        **_SOURCE_STEWARD,
    },
}

_SCOPE_RANK = {Scope.SELF: 0, Scope.DEPARTMENT: 1, Scope.ALL: 2}


def grants_for(roles: list[Role] | set[Role]) -> dict[Permission, Scope]:
    """The widest scope each permission is held with, over all the roles."""
    merged: dict[Permission, Scope] = {}
    for role in roles:
        for permission, scope in ROLE_GRANTS.get(role, {}).items():
            if permission not in merged or _SCOPE_RANK[scope] > _SCOPE_RANK[merged[permission]]:
                merged[permission] = scope
    return merged
