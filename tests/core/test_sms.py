"""The SMS senders: ``command`` runs the deployment's program with the phone and the message as
arguments (no shell), a failure is a 503 that keeps no code; production refuses the ``file`` sender,
which writes the codes in clear."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import ValidationError

from tongban.core.config import Environment, Settings
from tongban.core.errors import Problem
from tongban.core.sms import CommandSmsSender, sender_for

STRONG = "s" * 40


def _recorder(tmp_path) -> str:
    """A program that writes its arguments, as it got them, to a file."""
    script = tmp_path / "send-sms.py"
    script.write_text("import json, sys\nopen(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))\n")
    return f"{sys.executable} {script} {tmp_path / 'sent.json'}"


def test_the_command_gets_the_phone_and_the_message_as_two_arguments_never_through_a_shell(tmp_path):
    settings = Settings(sms_sender="command", sms_command=_recorder(tmp_path))
    message = "【通办】验证码 123456；$(touch {}) `id` && rm -rf / 'quoted'".format(tmp_path / "pwned")
    sender_for(settings).send("13912345678", message)
    assert json.loads((tmp_path / "sent.json").read_text()) == ["13912345678", message]
    assert not (tmp_path / "pwned").exists()


def test_a_failing_or_hanging_command_is_a_chinese_503(tmp_path):
    failing = CommandSmsSender([sys.executable, "-c", "import sys; sys.exit(3)"], timeout_s=10)
    with pytest.raises(Problem) as refused:
        failing.send("13912345678", "验证码 123456")
    assert refused.value.slug == "service-unavailable" and "短信" in refused.value.detail
    hanging = CommandSmsSender([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=0.2)
    with pytest.raises(Problem) as timed_out:
        hanging.send("13912345678", "验证码 123456")
    assert timed_out.value.slug == "service-unavailable"


def test_production_refuses_the_file_sender_and_a_command_sender_needs_its_command():
    with pytest.raises(ValidationError, match="TONGBAN_SMS_SENDER"):
        Settings(env=Environment.PRODUCTION, secret_key=STRONG)
    with pytest.raises(ValidationError, match="TONGBAN_SMS_COMMAND"):
        Settings(sms_sender="command")
    ready = Settings(env=Environment.PRODUCTION, secret_key=STRONG, sms_sender="command",
                     sms_command="/usr/local/bin/send-sms")
    assert isinstance(sender_for(ready), CommandSmsSender)
