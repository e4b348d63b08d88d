"""Strings of finding products (search picker, favourites grid), open price and
quantity entry: part of the catalogue of :mod:`client.strings`. Simplified
Chinese first, English second."""

from __future__ import annotations

FINDING_STRINGS: dict[str, tuple[str, str]] = {
    # the entry and its hint
    "find.placeholder": ("扫码/品名/拼音/货号+回车；3* 数量，*3 改数量",
                         "Scan or type name/pinyin/SKU + Enter · 3* then scan = 3 · *3 sets "
                         "the qty · F11"),
    "find.searching": ("正在查找 {q}…", "Searching {q}…"),
    "find.not_found": ("没有找到商品：{q}", "No product found: {q}"),
    "find.pending_qty": ("数量 {n}：请扫码或搜索商品", "Qty {n}: scan or search an item"),
    "find.bad_qty": ("数量应为 1 到 {max} 之间的整数", "Quantity must be a whole number "
                                                   "from 1 to {max}"),
    "find.qty_set": ("{name} 数量改为 {n}", "{name}: quantity {n}"),
    "find.no_line": ("购物车是空的：请先加入商品", "The cart is empty: add an item first"),
    "find.added_qty": ("已加入：{name} × {n}", "Added: {name} × {n}"),
    # the picker
    "find.picker_title": ("选择商品：{q}", "Choose an item: {q}"),
    "find.picker_hint": ("↑↓ 选择，回车加入，数字 1–9 直接选，Esc 关闭",
                         "↑↓ to choose, Enter adds, digits 1–9 pick, Esc closes"),
    "find.picker_more": ("只显示前 {n} 个结果，请输入更多文字缩小范围",
                         "Only the first {n} results: type more to narrow down"),
    "find.picker_stock": ("库存 {n}", "stock {n}"),
    "find.kind.service": ("服务", "service"),
    "find.open_price_tag": ("现场定价", "price at counter"),
    "find.add": ("加入", "Add"),
    "find.close": ("关闭", "Close"),
    # the favourites grid
    "fav.title": ("常用商品", "Favourites"),
    "fav.show": ("常用商品 ▸", "Favourites ▸"),
    "fav.hide": ("常用商品 ▾", "Favourites ▾"),
    "fav.other": ("其他", "Other"),
    "fav.none": ("还没有常用商品：在后台「商品」中勾选“收银台常用”",
                 "No favourites yet: tick \u201cCounter favourite\u201d on a product in the "
                 "back office"),
    "fav.loading": ("正在载入常用商品…", "Loading favourites…"),
    # open price
    "open_price.title": ("输入价格", "Enter the price"),
    "open_price.item": ("商品", "Item"),
    "open_price.price": ("单价（元）", "Unit price (yuan)"),
    "open_price.hint": ("例如 88 或 88.50，回车确认", "e.g. 88 or 88.50, Enter confirms"),
    "open_price.bad": ("请输入正确的金额，例如 88 或 88.50", "Enter an amount such as 88 or 88.50"),
    "open_price.zero": ("价格必须大于 0", "The price must be above 0"),
    "open_price.too_high": ("价格不能超过 ¥1,000,000.00", "The price cannot exceed "
                                                        "¥1,000,000.00"),
    "open_price.ok": ("确定", "OK"),
    "open_price.cancel": ("取消", "Cancel"),
    "open_price.tag": ("改价", "open price"),
    # quantity cell, delete with undo
    "key.qty": ("数量", "Qty"),
    "cart.deleted": ("已删除 {name} · Ctrl+Z 撤销", "Removed {name} · Ctrl+Z to undo"),
    "cart.undo": ("撤销", "Undo"),
    "cart.restored": ("已恢复：{name}", "Restored: {name}"),
    # back office: the product editor
    "prod.f.favourite": ("收银台常用", "Counter favourite"),
    "prod.f.favourite_order": ("常用排序", "Favourite order"),
    "prod.f.favourite_hint": ("勾选后显示在收银台的常用商品按钮中（按分类分页，排序小的在前）",
                              "Shown as a button on the counter's favourites grid (a tab per "
                              "category, lower order first)"),
}
