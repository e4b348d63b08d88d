"""Shop-wide settings every counter shares (receipts, the 抹零 the cashier may apply)."""

from __future__ import annotations

from pydantic import Field

from .base import ApiModel, PatchModel
from .sales import Rounding


class ShopSettings(ApiModel):
    name: str = Field("lanpos 门店", min_length=1, max_length=64)
    address: str = Field("", max_length=128)
    phone: str = Field("", max_length=32)
    receipt_header: list[str] = Field(default_factory=list, max_length=5,
                                      description="extra lines under the shop name")
    receipt_footer: list[str] = Field(default_factory=lambda: ["谢谢惠顾，欢迎再次光临！"],
                                      max_length=5)
    max_rounding: Rounding = Field("none", description="the coarsest 抹零 a cashier may "
                                                       "apply: none / jiao (角) / yuan (元)")


class ShopSettingsOut(ShopSettings):
    """The shop settings as the server answers them, with the shop's clock."""

    timezone: str = Field("", description="read-only, from the server's [shop] timezone: the "
                                          "IANA zone receipts show times in; empty = the "
                                          "counter's own")


class ShopSettingsPatch(PatchModel):
    name: str | None = Field(None, min_length=1, max_length=64)
    address: str | None = Field(None, max_length=128)
    phone: str | None = Field(None, max_length=32)
    receipt_header: list[str] | None = Field(None, max_length=5)
    receipt_footer: list[str] | None = Field(None, max_length=5)
    max_rounding: Rounding | None = None
