"""Request and response bodies of the staff, auth and account endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.staff.models import Role
from server.web.validation import STRICT, BranchIdStr, Password, Text100, Username

Locale = Literal["zh-CN", "en"]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    all_branches: bool
    branch_ids: list[str]
    active: bool
    locale: str
    must_change_password: bool
    locked_until: datetime | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    all_branches: bool
    branch_ids: list[str]
    locale: str
    must_change_password: bool


class MeUpdate(BaseModel):
    model_config = STRICT

    locale: Locale | None = None
    display_name: Text100 | None = None


class PasswordChange(BaseModel):
    model_config = STRICT

    current_password: Password
    new_password: Password


class StaffCreate(BaseModel):
    model_config = STRICT

    username: Username
    role: Role
    branch_ids: list[BranchIdStr] = Field(default_factory=list, max_length=1000)
    all_branches: bool = False
    display_name: Text100 = ""
    locale: Locale = "zh-CN"


class StaffUpdate(BaseModel):
    model_config = STRICT

    display_name: Text100 | None = None
    role: Role | None = None
    active: bool | None = None
    branch_ids: list[BranchIdStr] | None = Field(default=None, max_length=1000)


class OneTimePassword(BaseModel):
    username: str
    one_time_password: str
