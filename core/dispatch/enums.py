from enum import StrEnum


class Stage(StrEnum):
    """Where a case is in the workflow (DOMAIN §1), finer than the ticket's generic status."""

    ACCEPTED = "accepted"  # 受理: in, not yet verified
    REGISTERED = "registered"  # 立案: verified, waiting for a department
    CANCELLED = "cancelled"  # 注销: failed the registration conditions
    DISPATCHED = "dispatched"  # 派遣: the department's clock runs
    HANDLING = "handling"  # 处置
    RETURNED = "returned"  # 回退: "not ours", back to the centre for re-dispatch
    PARKED = "parked"  # 挂账: in the problem pool, on its own clock
    REPORTED = "reported"  # 处理反馈: done, waiting for the inspector
    REWORK = "rework"  # 返工: the inspector found it not done
    CLOSED = "closed"  # 结案
    MERGED = "merged"  # a duplicate: its reporter follows another case


OPEN_STAGES = frozenset(
    {
        Stage.ACCEPTED,
        Stage.REGISTERED,
        Stage.DISPATCHED,
        Stage.HANDLING,
        Stage.RETURNED,
        Stage.PARKED,
        Stage.REPORTED,
        Stage.REWORK,
    }
)
# Stages in which a department is working against the clock.
WORKING_STAGES = frozenset({Stage.DISPATCHED, Stage.HANDLING, Stage.REWORK})


class Action(StrEnum):
    REGISTER = "register"
    CANCEL = "cancel"
    DISPATCH = "dispatch"
    START = "start"
    RETURN = "return"
    REPORT = "report"
    VERIFY_PASS = "verify_pass"  # noqa: S105  (an action, not a password)
    VERIFY_FAIL = "verify_fail"
    PARK = "park"
    UNPARK = "unpark"
    REQUEST_EXTENSION = "request_extension"


class Family(StrEnum):
    COMPONENT = "component"  # 部件: manhole covers, lamps, benches
    EVENT = "event"  # 事件: exposed garbage, illegal ads


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class SuggestionStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    DISMISSED = "dismissed"


class PhotoStatus(StrEnum):
    STORED = "stored"
    PENDING = "pending"  # a URL still to fetch
    FAILED = "failed"
