from common.text import mask_phone, pinyin_initials


def test_pinyin_initials():
    assert pinyin_initials("张三") == "zs"
    assert pinyin_initials("欧阳修") == "oyx"
    assert pinyin_initials("李娜Lina") == "lnlina"
    assert pinyin_initials("可口可乐 500ml") == "kkkl500ml"
    assert pinyin_initials("") == ""


def test_mask_phone():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("") == ""
    assert mask_phone("12345") == "***45"
    assert mask_phone("+86 138 1234 1234") == "138****1234"
