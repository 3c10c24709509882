"""The registry's closed vocabularies (DOMAIN.md §Registration, SPEC §7): levels,
categories and their scopes (执业范围), titles, roles, institution kinds (机构类别)."""

from __future__ import annotations

LEVELS = ("执业医师", "执业助理医师")
CATEGORIES = ("临床", "中医", "口腔", "公共卫生")
TITLES = ("住院医师", "主治医师", "副主任医师", "主任医师")
ROLES = ("primary", "additional")
INSTITUTION_KINDS = (
    "诊所",
    "口腔诊所",
    "中医诊所",
    "综合门诊部",
    "中医门诊部",
    "一级综合医院",
    "二级综合医院",
    "三级综合医院",
    "专科医院",
    "社区卫生服务中心",
    "社区医院",
    "乡镇卫生院",
)
SCOPES = {
    "临床": (
        "内科",
        "外科",
        "妇产科",
        "儿科",
        "眼耳鼻咽喉科",
        "皮肤病与性病",
        "精神卫生",
        "职业病",
        "医学影像和放射治疗",
        "医学检验、病理",
        "全科医学",
        "急救医学",
        "康复医学",
        "预防保健",
        "特种医学与军事医学",
        "计划生育技术服务",
    ),
    "口腔": ("口腔专业",),
    "公共卫生": ("公共卫生类别专业",),
    "中医": ("中医", "中西医结合", "蒙医", "藏医", "维医", "傣医"),
}
