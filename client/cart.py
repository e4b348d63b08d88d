"""The counter's cart: plain Python (no Qt), priced by the shared engine ``common.pricing``.

The Qt table model in ``client.ui.checkout`` is a thin view over :class:`Cart`. Later issues
add member, coupon, manual discounts and count cards here (they are inputs of
``pricing.quote``) and turn the cart into a sale request; the server recomputes everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from common import pricing
from common.schemas.catalog import ProductOut


class CartError(ValueError):
    """A cart change that cannot be made; ``str()`` is readable for the cashier."""


@dataclass(frozen=True)
class CartLine:
    line_id: str
    product_id: int
    name: str
    unit: str
    qty: int
    list_price: int
    kind: str = pricing.KIND_PRODUCT
    member_price: int | None = None
    category_id: int | None = None
    discountable: bool = True
    barcode: str = ""

    @classmethod
    def from_product(cls, product: ProductOut, barcode: str = "", qty: int = 1) -> CartLine:
        if product.open_price:
            raise CartError(f"“{product.name}”需要现场定价，此功能将在后续版本开放")
        return cls(line_id=uuid.uuid4().hex, product_id=product.id, name=product.name,
                   unit=product.unit, qty=qty, list_price=product.price,
                   kind=pricing.KIND_SERVICE if product.kind == "service"
                   else pricing.KIND_PRODUCT,
                   member_price=product.member_price, category_id=product.category_id,
                   discountable=product.discountable, barcode=barcode)

    def price_line(self) -> pricing.PriceLine:
        return pricing.PriceLine(line_id=self.line_id, product_id=self.product_id, qty=self.qty,
                                 list_price=self.list_price, kind=self.kind,
                                 category_id=self.category_id, member_price=self.member_price,
                                 discountable=self.discountable)


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    member: pricing.Member | None = None  # set by the member panel (later issue)

    def add_product(self, product: ProductOut, barcode: str = "") -> int:
        """Add one unit; the same product scanned again adds to its line. Returns the row."""
        for i, line in enumerate(self.lines):
            if line.product_id == product.id:
                self.lines[i] = replace(line, qty=line.qty + 1)
                return i
        self.lines.append(CartLine.from_product(product, barcode))
        return len(self.lines) - 1

    def set_qty(self, row: int, qty: int) -> None:
        if qty < 1 or qty > 99_999:
            raise CartError("数量应在 1 到 99999 之间")
        self.lines[row] = replace(self.lines[row], qty=qty)

    def remove(self, row: int) -> None:
        del self.lines[row]

    def clear(self) -> None:
        self.lines.clear()
        self.member = None

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.lines)

    def quote(self) -> pricing.Quote:
        """Live totals from the shared engine (the server recomputes at checkout)."""
        return pricing.quote([line.price_line() for line in self.lines], self.member)
