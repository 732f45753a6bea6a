"""A trigger as written in config/triggers or sent to the API (docs/triggers.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from eventwire.core.durations import parse_duration

TriggerId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$"), Len(1, 200)
]
Name = Annotated[str, Len(1, 200)]
_STRICT = ConfigDict(extra="forbid")


def _duration(value: Any) -> str:
    parse_duration(value)
    return str(value)


class _Action(BaseModel):
    model_config = _STRICT


class AwardPoints(_Action):
    type: Literal["award_points"]
    amount: Any


class DeductPoints(_Action):
    type: Literal["deduct_points"]
    amount: Any


class IssueReward(_Action):
    type: Literal["issue_reward"]
    reward: Any


class GrantBadge(_Action):
    type: Literal["grant_badge"]
    badge: Any


class SetAttribute(_Action):
    type: Literal["set_attribute"]
    name: Name
    value: Any


class AddToSegment(_Action):
    type: Literal["add_to_segment"]
    segment: Any


class RemoveFromSegment(_Action):
    type: Literal["remove_from_segment"]
    segment: Any


class CallWebhook(_Action):
    type: Literal["call_webhook"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://"), Len(8, 2048)]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, Annotated[str, StringConstraints(pattern=r"^[^\r\n]*$")]] = Field(
        default_factory=dict
    )
    body: Any = None


class StartAutomation(_Action):
    type: Literal["start_automation"]
    automation: Name


Action = Annotated[
    AwardPoints
    | DeductPoints
    | IssueReward
    | GrantBadge
    | SetAttribute
    | AddToSegment
    | RemoveFromSegment
    | CallWebhook
    | StartAutomation,
    Field(discriminator="type"),
]


class Limit(BaseModel):
    model_config = _STRICT
    times: int = Field(ge=1)
    # global: a budget over all profiles, one counter per trigger (and window)
    per: Literal["profile", "session", "global"] = "profile"
    window: str | None = None

    _window = field_validator("window")(lambda cls, v: None if v is None else _duration(v))


class Segments(BaseModel):
    model_config = _STRICT
    include: list[Name] = Field(default_factory=list)
    exclude: list[Name] = Field(default_factory=list)


class Absent(BaseModel):
    model_config = _STRICT
    type: Name
    within: str

    _within = field_validator("within")(lambda cls, v: _duration(v))


class TriggerSpec(BaseModel):
    model_config = _STRICT

    id: TriggerId
    description: str | None = None
    on: Name | Annotated[list[Name], Len(1, 100)]
    when: dict[str, Any] | None = None
    segments: Segments | None = None
    limit: Limit | None = None
    absent: Absent | None = None
    actions: Annotated[list[Action], Len(1, 50)]
    enabled: bool = True

    @field_validator("actions", mode="before")
    @classmethod
    def _one_key_form(cls, value: Any) -> Any:
        """Accept the one-key form ``{"award_points": {"amount": 5}}`` too."""
        if not isinstance(value, list):
            return value
        out = []
        for action in value:
            if isinstance(action, dict) and "type" not in action and len(action) == 1:
                [(name, params)] = action.items()
                if isinstance(params, dict):
                    action = {"type": name, **params}
            out.append(action)
        return out

    @model_validator(mode="after")
    def _absent_is_not_on(self) -> TriggerSpec:
        if self.absent is not None and self.absent.type in self.types():
            raise ValueError("absent.type must differ from the trigger's `on` types")
        return self

    def types(self) -> list[str]:
        return [self.on] if isinstance(self.on, str) else list(self.on)
