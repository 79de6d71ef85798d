"""One error base for every refusal a member of staff reads.

A service that refuses raises a subclass of ``YfbzError`` with one of the message constants
below (or of its own app's ``errors`` module) and the values that fill it in::

    raise TransitionRefused(errors.MOVE_REFUSED, subject="票据12", frm="已录入", to="已支付")

``str(exc)`` is the Chinese sentence shown on the page; ``exc.template`` is the constant, so a
test asserts *which* refusal happened without matching Chinese text::

    with pytest.raises(YfbzError) as caught: ...
    assert caught.value.template is errors.MOVE_REFUSED

Views catch ``YfbzError`` (or their app's subclass: ``ClaimsError``, ``FundingError``) and show
``str(exc)``; nothing else about the error reaches the user.
"""

from __future__ import annotations


class YfbzError(Exception):
    """A refused action: changes nothing (services are atomic) and says why in Chinese."""

    def __init__(self, message: str = "", /, **params):
        self.template = message
        self.params = params
        try:
            self.message = message.format(**params) if params else message
        except (KeyError, IndexError, ValueError):  # a template and its values that do not fit: show both
            self.message = f"{message} {params}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def messages(self) -> list[str]:
        """Like ``ValidationError.messages`` (code written for Django's errors reads this)."""
        return [self.message]

    def is_(self, template: str) -> bool:
        return self.template == template


class TransitionRefused(YfbzError):
    """``workflow.transition`` refused a move the record's workflow does not allow."""


class JobError(YfbzError):
    """A background job could not be started, claimed or rerun."""


class OutsideArea(YfbzError):
    """A write about a person whose town, on the day it concerns, was not under the user's district
    (``yfbz.core.scoping.check_in_area``): the history stays readable, nothing new is written."""


# --- the status mechanism (yfbz.core.workflow) ---------------------------------------------------
MOVE_REFUSED = "{subject}当前为“{frm}”，不能改为“{to}”。"
REASON_REQUIRED = "{subject}改为“{to}”须说明原因。"
HISTORY_APPEND_ONLY = "状态记录只能追加，不能修改或删除。"

# --- areas with dated borders (yfbz.core.scoping.check_in_area, docs/areas.md) ------------------------
OUTSIDE_AREA = ("{name}{on:%Y年%m月%d日}所在的{town}当日{there}，不属{district}，不能{what}；"
                "该人员已有的记录仍可查看，此后的业务由{other}办理。")

# --- background jobs (yfbz.core.jobs) ------------------------------------------------------------
JOB_FAILED_UNEXPECTED = "任务运行出错（{kind}）：{detail}。已停止，数据未作任何改动；请检查后点“重新运行”。"
JOB_FAILED_TOO_MANY_TRIES = "任务已尝试{tries}次仍未完成（运行中断或数据有问题），已停止；请检查后点“重新运行”。"
JOB_NOT_RERUNNABLE = "{subject}当前为“{status}”，不需要重新运行。"
JOB_STILL_RUNNING = "{subject}正在运行中，请等待完成。"
JOB_DATA_TOO_LARGE = "数值超出允许范围（{detail}）"
JOB_DATA_NUL = "数据中含有无法保存的空字符（NUL）"
JOB_DATA_CONFLICT = "数据冲突（{detail}），可能有另一项操作同时进行；请稍后重新运行"
JOB_DEADLOCK = "与另一项同时进行的操作冲突，请重新运行"

# --- files built by a task (yfbz.core.exports) ---------------------------------------------------------
EXPORT_OUT_OF_REACH = "“{title}”已不在{user}的查看范围内（或已不存在），未生成文件。"
