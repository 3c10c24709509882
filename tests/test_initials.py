"""A physician's pinyin initials (search by 'zw' for 张伟) are read character by character where
pypinyin would read each character by its first reading, and by pypinyin whole otherwise: the
two must agree on every name — pypinyin itself is the oracle."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from multisite.services.registry import initials

# common surnames and given-name characters, heteronyms (曾 单 解 仇 朴 查 乐 区 盖 缪 尉 长 重
# 行 员), characters that form phrases with each other (单于 尉迟 长孙 重庆 银行 东方 司马 欧阳),
# full-width and ASCII letters, digits, a middle dot, a rare character outside pypinyin's table
POOL = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹"
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌波辉鹏飞俊峰"
    "单解仇朴查乐区盖缪尉长重行员迟孙庆银东司欧阳"
    "Ａａ Zz09·\u3400\U00020000"
)


def oracle(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()[:32]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=POOL, min_size=1, max_size=6))
def test_initials_are_pypinyins_whatever_the_name(name: str) -> None:
    initials.cache_clear()
    assert initials(name) == oracle(name)


def test_names_a_clerk_searches_for() -> None:
    assert initials("张伟") == "zw"
    assert initials("曾小贤") == oracle("曾小贤")
    for phrase in ("单于", "尉迟敬德", "长孙无忌", "欧阳修", "司马光"):
        assert initials(phrase) == oracle(phrase), phrase
    assert initials("阿卜杜拉·买买提") == oracle("阿卜杜拉·买买提")
    assert len(initials("张" * 64)) == 32
