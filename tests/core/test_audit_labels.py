"""Audit actions read in Chinese: every action the code records has a name, and one it does not
know still reads as words, never as its code (issue 25, finding 5)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tongban.core.audit import ACTION_LABELS, OBJECT_LABELS, action_label, object_label
from tongban.core.permissions import PERMISSION_LABELS, ROLE_LABELS, SCOPE_LABELS, Permission, Role, Scope

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tongban"
IDENTIFIER = re.compile(r"[a-z]+[_.:][a-z_.:]+")


def _literal_keywords(name: str) -> set[str]:
    """Every string literal passed as ``name=...`` in the source (audit.record, deny, ensure_department …)."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found |= {kw.value.value for kw in node.keywords
                          if kw.arg == name and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)}
    return found


def test_every_recorded_action_and_object_has_a_chinese_name():
    actions = {a for a in _literal_keywords("action") if "." in a}
    assert len(actions) > 40  # the scan found the calls
    assert actions <= set(ACTION_LABELS), sorted(actions - set(ACTION_LABELS))
    objects = _literal_keywords("object_type")
    assert objects <= set(OBJECT_LABELS), sorted(objects - set(OBJECT_LABELS))


def test_an_unknown_action_reads_as_words():
    assert action_label("auth.sign_in") == "登录"
    assert action_label("registry.something_new") == "基础库操作"
    assert action_label("hotline.ticket_created") == "其他操作"
    assert action_label("GET /staff/departments/PD-GA") == "访问 /staff/departments/PD-GA"
    assert action_label("POST /staff/window/SQ-1") == "提交 /staff/window/SQ-1"
    assert action_label("GET /api/v1/tasks/{task_id}") == "访问 /api/v1/tasks/…"  # a route template's parameter
    for label in (*ACTION_LABELS.values(), action_label("x_y.z_w"), object_label("some_table"), object_label(None)):
        assert not IDENTIFIER.search(label), label


def test_permissions_roles_and_scopes_have_chinese_names():
    assert set(PERMISSION_LABELS) == set(Permission) and set(ROLE_LABELS) == set(Role) and set(SCOPE_LABELS) == set(Scope)
    assert Permission.AUDIT_READ.label == "查看审计日志" and Role.WINDOW_CLERK.label == "窗口受理人员" and Scope.ALL.label == "全平台"
    for label in (*PERMISSION_LABELS.values(), *ROLE_LABELS.values(), *SCOPE_LABELS.values()):
        assert not IDENTIFIER.search(label), label
