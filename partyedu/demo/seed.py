"""Demo data: a realistic city party organisation with its members and the demo accounts.

The build has two halves. ``DemoPlan`` decides everything from ``random.Random(seed)`` alone — the
tree (with paths exactly as ``organization_create`` would number them), each branch's size, and a
stream of members — without touching the database, so the same seed always gives the same city.
``build_demo`` writes a plan: organisations level by level and members in batches with
``bulk_create`` (a city of 100,000 members takes seconds, not the hours ``member_create`` per row
would), then the demo accounts through the account services, and one audit row for the whole seed.

The city is fictional (泉城市, a provincial capital in 山东): six districts and counties with their
streets and towns, communities and villages, organs, schools, hospitals, state and private
enterprises and social organisations, as in the practice described in ``seeds/``. Dates are computed
from ``REFERENCE_DATE`` rather than today, so a seed gives the same ages whenever it runs.
"""

from __future__ import annotations

import random
import time
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from partyedu.accounts.choices import RoleCode
from partyedu.core.audit import audit_record
from partyedu.core.choices import AuditAction
from partyedu.core.pinyin import initials
from partyedu.demo.lectures import (
    LectureResult,
    build_competition,
    build_lecture_year,
    lecture_summary_lines,
)
from partyedu.demo.study import Person, StudyResult, build_study, study_summary_lines
from partyedu.members.choices import Education, Gender, MemberCategory, MemberStatus
from partyedu.members.idnumber import check_char
from partyedu.members.pii_index import id_number_index
from partyedu.organizations.choices import ALLOWED_CHILD_LEVELS, OrgLevel, OrgType
from partyedu.organizations.services import encode_segment

if TYPE_CHECKING:
    from partyedu.accounts.models import User

DEMO_PASSWORD = "Demo@2026"
# The demo accounts whose role requires a second factor (city_admin, sysadmin, secadmin, auditor)
# share this authenticator secret, so the demo can be signed into: add it to any authenticator app
# (Base32, time-based, 6 digits, 30 s) or read the current code from ``demo_accounts --otp``.
# It is written only by the demo seed, which production settings refuse to run.
DEMO_OTP_SECRET = "OBQXE5DZMVSHKLLEMVWW6LJSGAZDMIJB"
DEFAULT_MEMBERS = 2000
DEFAULT_SEED = 2026
MIN_MEMBERS = 100
# Ages, party standing and probation are computed as of this day, never from the wall clock.
REFERENCE_DATE = date(2026, 1, 1)
CITY = "泉城市"
MEMBER_BATCH = 2000

L = OrgLevel
T = OrgType
S = MemberStatus
C = MemberCategory
E = Education


# --- Small deterministic helpers -------------------------------------------------------------------


class Weighted:
    """A weighted choice that draws exactly one number from the generator."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: list[tuple[Any, float]] | tuple[tuple[Any, float], ...]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


def split(total: int, weights: list[float]) -> list[int]:
    """Integer shares of ``total`` proportional to ``weights`` that add up to ``total``
    (largest remainder; ties go to the earlier share)."""
    if not weights:
        return []
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    shares = [int(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def allocate(total: int, parts: list[tuple[str, float, int]]) -> dict[str, int]:
    """Share a member budget among the parts of a unit. The first part is the main one and always
    kept; another part whose share would fall below its minimum is dropped and its share goes to
    the others, so a small city has fewer kinds of unit rather than units too small to be real."""
    kept = list(parts)
    while True:
        shares = split(total, [w for _, w, _ in kept])
        small = [
            (share, i)
            for i, ((_, _, minimum), share) in enumerate(zip(kept, shares, strict=True))
            if i > 0 and share < minimum
        ]
        if not small:
            result = {key: 0 for key, _, _ in parts}
            result.update({key: share for (key, _, _), share in zip(kept, shares, strict=True)})
            return result
        del kept[min(small)[1]]


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (for 第N党支部)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    if tens >= 10:
        return str(n)
    return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")


@cache
def cached_initials(text: str) -> str:
    return initials(text)


# --- Vocabulary ----------------------------------------------------------------------------------


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def tiers(text: str) -> Weighted:
    """``"7.1 王 | 2.2 黄 赵"`` → each name with the weight in front of its tier."""
    pairs = []
    for tier in text.split("|"):
        weight, *names = tier.split()
        pairs += [(name, float(weight)) for name in names]
    return Weighted(pairs)


# Frequencies roughly as in the national surname statistics (per cent), with a few rare and
# two-character surnames so that search and masking meet them.
SURNAMES = tiers(
    "7.1 王 | 7.0 李 | 6.7 张 | 5.4 刘 | 4.5 陈 | 3.1 杨 | 2.2 黄 赵 | 2.0 吴 | 1.9 周 | 1.6 徐 | 1.5 孙 |"
    "1.4 马 | 1.3 朱 胡 | 1.1 郭 何 | 1.0 高 林 | 0.9 罗 郑 | 0.8 梁 谢 | 0.7 宋 唐 | 0.6 许 韩 冯 邓 曹 |"
    "0.5 彭 曾 肖 田 董 | 0.4 袁 潘 于 蒋 蔡 余 杜 叶 程 | 0.3 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 |"
    "0.2 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 |"
    "0.1 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 | 0.15 欧阳 | 0.06 司马 上官 |"
    "0.05 单 | 0.04 诸葛 东方 皇甫 | 0.03 夏侯 慕容 令狐 公孙"
)
MALE_CHARS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳成建国志海东峰文博晨亮振庆德永忠锋新兵毅洪坤彬"
    "瑞昊然轩睿泽航晟铭哲"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英华慧玲燕红梅琳莉雪婷颖倩洁萍晶琴兰云凤璐丹欣佳怡悦萱涵雨思瑶婧蕾薇彤诗月桂玉珍淑"
)
OLD_MALE = words(
    "建国 建华 建军 国强 国庆 志强 德福 保国 振华 卫东 卫国 红旗 胜利 永胜 庆华 家和 学军 跃进 援朝 长友 兴旺 洪亮"
)
OLD_FEMALE = words(
    "秀英 桂英 秀兰 桂兰 玉兰 淑珍 凤英 玉珍 秀珍 桂芝 淑英 素芳 美兰 丽华 秀云 玉梅 翠英 桂香"
)
YOUNG_MALE = words("子轩 浩然 宇轩 梓豪 俊杰 皓轩 一鸣 天佑 博文 思远 明哲 子墨 宇航 家乐 泽宇")
YOUNG_FEMALE = words("子涵 梓涵 欣怡 诗涵 雨桐 一诺 可欣 佳怡 思彤 语嫣 梦瑶 若曦 紫萱 雨萱 佳琪")
ETHNICITIES = tiers("95.5 汉族 | 2.5 回族 | 0.8 满族 | 0.4 蒙古族 | 0.2 壮族 土家族 苗族 朝鲜族")
PHONE_PREFIXES = words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 170 173 175 176 177 178 "
    "180 181 182 183 184 185 186 187 188 189 191 193 195 198 199"
)
# Birthplaces elsewhere in 山东 (GB/T 2260 codes) for members not born in their own district.
PROVINCE_REGIONS = words(
    "370102 370103 370104 370105 370112 370113 370114 370115 370124 370126 370202 370203 370211 370212 "
    "370302 370303 370402 370502 370602 370612 370702 370781 370802 370830 370902 370982 371002 371102 "
    "371302 371321 371402 371425 371502 371522 371602 371702 371721"
)
EXEMPT_REASONS = Weighted(
    [
        ("年老体弱，送学上门", 70),
        ("长期患病，行动不便，送学上门", 20),
        ("年满八十周岁，行动不便，送学上门", 10),
    ]
)


@dataclass(frozen=True)
class District:
    name: str  # 明湖区
    code: str  # MH
    region: str  # GB/T 2260 code used for most members born here
    urban: bool
    weight: float

    @property
    def kind(self) -> str:
        return "区" if self.urban else "县"


DISTRICTS = (
    District("明湖区", "MH", "370102", True, 1.25),
    District("历山区", "LS", "370103", True, 1.1),
    District("华泉区", "HQ", "370104", True, 1.0),
    District("泺源区", "LY", "370105", True, 0.9),
    District("玉符县", "YF", "370124", False, 0.95),
    District("锦阳县", "JY", "370126", False, 0.8),
)

STREET_WORDS = words(
    "文源 解放路 千佛山 舜耕 燕山 东关 甸柳 姚家 智远 龙洞 舜华路 泉城路 趵突泉 五里沟 六里山 七里山 杆石桥 "
    "四里村 魏家庄 七贤 白马山 王官庄 兴隆 振兴街 道德街 营市街 青年公园 南辛庄 张庄路 匡山 美里湖 吴家堡 "
    "兴福 腊山 无影山 北村 堤口路 北坦 制锦市 宝华街 官扎营 药山 北园 泺口 洪家楼 山大路 全福 华山 荷花路 "
    "鲍山 郭店 唐冶 港沟 柳园 锦绣 明珠 书香 曲水亭"
)
TOWN_WORDS = words(
    "孝直 孔村 洪范池 东阿 玫瑰 安城 锦水 榆山 许商 殷巷 怀仁 龙桑寺 郑路 贾庄 玉皇庙 白桥 孙集 韩庙 沙河 "
    "张坊 青石 桃园 杏林 河口 龙山 白马 玉泉 双庙 三里 永宁 丰乐 安仁 柳河 石桥 清泉 马集 仁里 潘店 胡官屯"
)
COMMUNITY_WORDS = words(
    "和平 建设 解放 新华 花园 幸福 振兴 东关 西关 南苑 北园 青年 朝阳 阳光 锦绣 翠苑 金桥 明珠 书香 丰收 "
    "龙泉 泉景 柳园 荷花 芙蓉 曲水 百花 紫薇 棠梨 兴隆 永安 康宁 福苑 怡和 春晖 秋实 枫林 松园 竹园 梅园 "
    "桂园 银河 星光 彩虹 海晏 长乐 安居 乐业 文化 民生 团结 友谊 光明 新村 佛山 燕子山 甸柳 舜玉 玉函 山师 "
    "历山 千佛 环山 羊头峪 洪山 七里河 全福 华信 东泺 匡山 兴福 湖畔 汇泉 泉润 书院 学苑 馨园 嘉园 雅居 "
    "丽景 领秀 名士 盛世 御景 清河 柳埠 杏花 林语 望岳 明湖 大观 纬二 经四 经七 纬六 南辛 段店 腊山"
)
VILLAGE_SUFFIXES = words("家庄 庄 家村 家峪 家洼 官庄 家寨 家楼 店 屯 集 家圈")
VILLAGE_PREFIXES = words("东 西 南 北 前 后 大 小 上 下")
VILLAGE_NATURE = words(
    "石门 柳林 杏园 桃花峪 龙泉 青龙 白云 双泉 黄土崖 泉子 山头 河崖 枣林 槐树 马鞍山 卧龙 凤凰 金沟 梨园 "
    "松林 玉皇 红庙"
)
COMPANY_CORES = words(
    "华信 鲁兴 泰和 金桥 瑞丰 宏达 恒通 鑫源 博远 中联 天诚 海纳 德润 众合 正阳 齐鲁 舜通 明泉 新元 智联 "
    "益康 万家 嘉禾 润华 同舟 诚信 远航 北辰 东岳 安泰 鼎盛 宏图 卓越 聚力 信达 泉通"
)
COMPANY_TRADES = words(
    "科技 信息技术 物流 建设工程 餐饮管理 医药 新材料 电子商务 物业服务 文化传媒 机械制造 食品 软件 环保科技 "
    "汽车销售服务 商贸 检测技术"
)
# "@" stands for the place with its 区/县/市: @委办公室 → 明湖区委办公室.
BUREAUS = words(
    "@委办公室 @委组织部 @委宣传部 @委统战部 @委政法委 @纪委监委机关 @政府办公室 发展和改革局 教育和体育局 "
    "科学技术局 工业和信息化局 民政局 司法局 财政局 人力资源和社会保障局 自然资源和规划局 住房和城乡建设局 "
    "交通运输局 水务局 农业农村局 商务局 文化和旅游局 卫生健康局 退役军人事务局 应急管理局 审计局 "
    "市场监督管理局 统计局 医疗保障局 城市管理局 行政审批服务局 信访局 机关事务服务中心 融媒体中心"
)
DIVISIONS = words("办公室 政策法规 综合规划 计划财务 人事 业务一 业务二 业务三 执法监督 信息中心 服务中心")
SCHOOLS = words(
    "实验小学 第一实验小学 第二实验小学 育英小学 实验中学 第一中学 第二中学 第三中学 外国语学校 "
    "职业中等专业学校 特殊教育学校 实验幼儿园"
)
CITY_SOES = (
    ("泉城公交集团有限公司", words("第一车队 第二车队 第三车队 第四车队 第五车队 保修厂 调度中心 票务中心")),
    ("泉城水务集团有限公司", words("第一水厂 第二水厂 第三水厂 管网运维中心 水质检测中心 客户服务中心")),
    ("泉城城市投资集团有限公司", words("工程管理部 投资发展部 财务审计部 资产运营部 项目一部 项目二部")),
    ("泉城文化旅游发展集团有限公司", words("景区管理公司 酒店管理公司 演艺中心 市场营销部 文创开发部")),
    ("泉城热力集团有限公司", words("第一供热站 第二供热站 第三供热站 管网运维中心 客户服务中心")),
)
DISTRICT_SOES = (
    ("城市建设投资集团有限公司", words("工程管理部 投资发展部 财务审计部 项目一部 项目二部")),
    ("国有资产运营有限公司", words("资产管理部 融资部 物业公司 商贸公司")),
)
HOSPITAL_UNITS = words("内科 外科 护理 医技 急诊 行政后勤")
UNIVERSITIES = (
    (
        "泉城大学",
        True,
        words(
            "计算机科学与技术学院 马克思主义学院 经济管理学院 文学院 机械工程学院 化学化工学院 法学院 "
            "外国语学院 数学与统计学院 土木工程学院"
        ),
    ),
    ("泉城职业技术学院", False, words("信息工程系 机电工程系 财经商贸系 护理系 建筑工程系")),
)


# --- Member profiles -------------------------------------------------------------------------------

EDU_ORGAN = Weighted([(E.BACHELOR, 55), (E.MASTER, 30), (E.COLLEGE, 8), (E.DOCTOR, 4), (E.SENIOR, 3)])
EDU_RETIRED_CADRE = Weighted(
    [(E.BACHELOR, 30), (E.COLLEGE, 35), (E.SENIOR, 25), (E.JUNIOR, 8), (E.MASTER, 2)]
)
EDU_RETIREE = Weighted(
    [(E.PRIMARY, 8), (E.JUNIOR, 25), (E.SENIOR, 35), (E.COLLEGE, 17), (E.BACHELOR, 14), (E.MASTER, 1)]
)
EDU_COMMUNITY = Weighted([(E.JUNIOR, 12), (E.SENIOR, 28), (E.COLLEGE, 27), (E.BACHELOR, 28), (E.MASTER, 5)])
EDU_VILLAGE = Weighted([(E.PRIMARY, 15), (E.JUNIOR, 45), (E.SENIOR, 28), (E.COLLEGE, 8), (E.BACHELOR, 4)])
EDU_VILLAGE_YOUNG = Weighted([(E.JUNIOR, 30), (E.SENIOR, 40), (E.COLLEGE, 20), (E.BACHELOR, 10)])
EDU_ENTERPRISE = Weighted([(E.JUNIOR, 1), (E.SENIOR, 15), (E.COLLEGE, 30), (E.BACHELOR, 42), (E.MASTER, 12)])
EDU_PRIVATE = Weighted([(E.JUNIOR, 2), (E.SENIOR, 15), (E.COLLEGE, 35), (E.BACHELOR, 40), (E.MASTER, 8)])
EDU_RIDER = Weighted([(E.JUNIOR, 15), (E.SENIOR, 50), (E.COLLEGE, 30), (E.BACHELOR, 5)])
EDU_TEACHER = Weighted([(E.COLLEGE, 5), (E.BACHELOR, 55), (E.MASTER, 38), (E.DOCTOR, 2)])
EDU_UNIVERSITY = Weighted([(E.BACHELOR, 10), (E.MASTER, 35), (E.DOCTOR, 55)])
EDU_HOSPITAL = Weighted([(E.COLLEGE, 15), (E.BACHELOR, 50), (E.MASTER, 28), (E.DOCTOR, 7)])
EDU_STUDENT = Weighted([(E.SENIOR, 70), (E.BACHELOR, 27), (E.MASTER, 3)])  # highest completed so far

STATUS_DEFAULT = Weighted([(S.FULL, 86), (S.PROBATIONARY, 4.5), (S.CANDIDATE, 3.5), (S.ACTIVIST, 6)])
STATUS_STUDENT = Weighted([(S.FULL, 30), (S.PROBATIONARY, 25), (S.CANDIDATE, 15), (S.ACTIVIST, 30)])
STATUS_FULL = Weighted([(S.FULL, 1)])

# kind → (age low, age high, mode), categories, education used unless the profile gives one.
KINDS: dict[str, tuple[tuple[int, int, int], tuple[str, ...], Weighted]] = {
    "staff": ((23, 60, 40), (C.EMPLOYED,), EDU_ENTERPRISE),
    "retiree": ((60, 95, 70), (C.RETIRED,), EDU_RETIREE),
    "farmer": ((24, 90, 58), (C.FARMER,), EDU_VILLAGE),
    "migrant": ((20, 52, 35), (C.FLOATING, C.FARMER), EDU_VILLAGE_YOUNG),
    "floating": ((20, 50, 33), (C.EMPLOYED, C.FLOATING), EDU_COMMUNITY),
    "new_sector": ((21, 55, 33), (C.EMPLOYED, C.NEW_SECTOR), EDU_PRIVATE),
    "rider": ((20, 45, 29), (C.EMPLOYED, C.FLOATING, C.NEW_SECTOR), EDU_RIDER),
    "student": ((18, 27, 20), (C.STUDENT,), EDU_STUDENT),
}
# Ages of secretaries and committee members, by kind.
LEAD_AGES = {
    "staff": (30, 58, 45),
    "retiree": (60, 72, 64),
    "farmer": (32, 62, 50),
    "new_sector": (28, 52, 38),
}
CATEGORY_ORDER = {c: i for i, c in enumerate(MemberCategory.values)}


@dataclass(frozen=True)
class Profile:
    """Who the members of one kind of branch are."""

    kinds: Weighted
    lead_kind: str
    male: float  # share of men
    size: tuple[int, int, int]  # branch size: low, high, mode
    group_prob: float = 0.0  # chance that a large branch has party groups
    leader: float = 0.0  # chance that an employed member is a 领导干部
    edu: Weighted | None = None
    old_edu: Weighted | None = None
    statuses: Weighted = STATUS_DEFAULT


PROFILES: dict[str, Profile] = {
    "organ": Profile(Weighted([("staff", 1)]), "staff", 0.6, (6, 30, 14), 0.3, 0.12, EDU_ORGAN),
    "city_organ": Profile(Weighted([("staff", 1)]), "staff", 0.6, (6, 32, 16), 0.3, 0.18, EDU_ORGAN),
    "organ_retired": Profile(
        Weighted([("retiree", 1)]), "retiree", 0.65, (12, 48, 28), 0.4, old_edu=EDU_RETIRED_CADRE
    ),
    "street_office": Profile(Weighted([("staff", 1)]), "staff", 0.55, (8, 32, 18), 0.2, 0.05, EDU_ORGAN),
    "community": Profile(
        Weighted([("retiree", 45), ("staff", 33), ("floating", 11), ("new_sector", 11)]),
        "staff",
        0.55,
        (8, 45, 22),
        0.55,
        edu=EDU_COMMUNITY,
    ),
    "community_retired": Profile(Weighted([("retiree", 1)]), "retiree", 0.55, (10, 48, 28), 0.5),
    "village": Profile(Weighted([("farmer", 86), ("migrant", 14)]), "farmer", 0.8, (8, 48, 24), 0.6),
    "migrant": Profile(Weighted([("migrant", 1)]), "farmer", 0.85, (5, 30, 12)),
    "soe": Profile(Weighted([("staff", 1)]), "staff", 0.7, (6, 40, 18), 0.4, 0.04, EDU_ENTERPRISE),
    "soe_retired": Profile(Weighted([("retiree", 1)]), "retiree", 0.7, (10, 48, 26), 0.4),
    "private": Profile(Weighted([("new_sector", 88), ("floating", 12)]), "new_sector", 0.65, (3, 18, 7)),
    "rider": Profile(Weighted([("rider", 1)]), "new_sector", 0.9, (4, 30, 12), edu=EDU_RIDER),
    "social": Profile(Weighted([("new_sector", 1)]), "new_sector", 0.45, (3, 12, 5)),
    "teacher": Profile(Weighted([("staff", 1)]), "staff", 0.35, (6, 32, 14), 0.2, edu=EDU_TEACHER),
    "teacher_retired": Profile(Weighted([("retiree", 1)]), "retiree", 0.4, (6, 40, 16), old_edu=EDU_TEACHER),
    "university": Profile(Weighted([("staff", 1)]), "staff", 0.55, (8, 35, 18), 0.2, edu=EDU_UNIVERSITY),
    "student": Profile(
        Weighted([("student", 1)]),
        "staff",
        0.45,
        (10, 48, 26),
        0.5,
        edu=EDU_UNIVERSITY,
        statuses=STATUS_STUDENT,
    ),
    "hospital": Profile(Weighted([("staff", 1)]), "staff", 0.35, (8, 40, 18), 0.3, edu=EDU_HOSPITAL),
}


# --- The plan -------------------------------------------------------------------------------------


@dataclass(slots=True)
class OrgSpec:
    index: int
    parent: int | None
    name: str
    code: str
    level: str
    org_type: str
    path: str
    depth: int
    sort_order: int
    short_name: str = ""
    district: int | None = None  # index into DISTRICTS; None for city-level units
    profile: str = ""  # branches only
    size: int = 0  # branches only: members in the branch and its groups
    committee: int = 0  # branches only: 支部委员 besides the secretary
    groups: list[int] = field(default_factory=list)
    children: int = 0
    tags: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class MemberSpec:
    org: int  # index of the branch or group
    branch: int  # index of the branch
    role: str  # secretary / committee / member
    name: str
    gender: str
    birth_date: date
    ethnicity: str
    education: str
    id_number: str
    phone: str
    joined_on: date | None
    full_member_on: date | None
    status: str
    categories: list[str]
    is_exempt: bool
    exempt_reason: str


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    org: int  # index of the organisation where the role is held
    display_name: str = ""
    member_key: str = ""  # ID number of the linked member, if any
    pii: bool = False


class DemoPlan:
    """Everything the seed will write, decided by the seed alone. Build the organisations at
    construction, then iterate ``members()`` once; the demo accounts follow from both."""

    def __init__(self, members: int = DEFAULT_MEMBERS, seed: int = DEFAULT_SEED) -> None:
        if members < MIN_MEMBERS:
            raise ValueError(f"演示数据至少需要{MIN_MEMBERS}名党员")
        self.total = members
        self.seed = seed
        self.rng = random.Random(seed)
        self.orgs: list[OrgSpec] = []
        self.used_names: set[str] = set()
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.picked: dict[int, list[MemberSpec]] = {}
        self.made_small = self.made_large = False
        self._plan_city()
        self.sec_branch, self.reviewer_branches = self._pick_demo_branches()

    # --- tree ----------------------------------------------------------------------------------

    def add(
        self,
        parent: OrgSpec | None,
        name: str,
        level: str,
        org_type: str,
        *,
        tag: str = "",
        code: str = "",
        short_name: str = "",
        district: int | None = None,
    ) -> OrgSpec:
        if parent is not None:
            assert level in ALLOWED_CHILD_LEVELS[parent.level], (parent.level, level)
            parent.children += 1
            number = parent.children
            if not code:
                parent.tags[tag] += 1
                code = f"{parent.code}-{tag}{parent.tags[tag]:02d}"
            district = parent.district if district is None else district
        else:
            number = sum(1 for o in self.orgs if o.parent is None) + 1
        assert len(code) <= 32, code
        spec = OrgSpec(
            index=len(self.orgs),
            parent=parent.index if parent else None,
            name=name,
            code=code,
            level=str(level),
            org_type=str(org_type),
            path=(parent.path if parent else "") + encode_segment(number),
            depth=parent.depth + 1 if parent else 0,
            sort_order=number,
            short_name=short_name,
            district=district,
        )
        self.orgs.append(spec)
        return spec

    def branch(
        self,
        parent: OrgSpec,
        name: str,
        org_type: str,
        profile: str,
        size: int,
        tag: str = "ZB",
        level: str = L.BRANCH,
    ) -> OrgSpec:
        spec = self.add(parent, name, level, org_type, tag=tag)
        spec.profile, spec.size = profile, size
        prof = PROFILES[profile]
        if size >= 7:
            spec.committee = 2 if size < 15 else self.rng.choice((2, 2, 4))
        ordinary = size - 1 - spec.committee
        if size >= 25 and self.rng.random() < prof.group_prob:
            count = max(2, min(5, round(ordinary / 9)))
            for i in range(1, count + 1):
                group = self.add(spec, f"{name}第{cn_number(i)}党小组", L.GROUP, org_type, tag="XZ")
                spec.groups.append(group.index)
        return spec

    def draw_size(self, profile: str) -> int:
        rng = self.rng
        u = rng.random()
        # A few branches are deliberately outside the 支部条例 sizes (fewer than 3 members, more
        # than 50) so that the sizing warnings have something to show; every city gets at least one.
        if u < 0.012 or (not self.made_small and profile == "private"):
            return 2
        if u < 0.022 or (not self.made_large and profile == "village"):
            return rng.randint(51, 58)
        low, high, mode = PROFILES[profile].size
        return int(rng.triangular(low, high + 1, mode))

    def next_size(self, rest: int, profile: str) -> int:
        """The next branch's share of a budget; a remainder under 3 joins the last branch."""
        size = self.draw_size(profile)
        size = rest if size >= rest or rest - size < 3 else size
        self.made_small |= size < 3
        self.made_large |= size > 50
        return size

    def sizes(self, budget: int, profile: str) -> list[int]:
        out: list[int] = []
        rest = budget
        while rest > 0:
            out.append(self.next_size(rest, profile))
            rest -= out[-1]
        return out

    def branches(
        self,
        parent: OrgSpec,
        budget: int,
        profile: str,
        org_type: str,
        namer: Callable[..., str],  # called with the branch's number; lambdas bind loop values as defaults
        tag: str = "ZB",
    ) -> None:
        for i, size in enumerate(self.sizes(budget, profile), start=1):
            self.branch(parent, namer(i), org_type, profile, size, tag)

    def unique(self, make: Callable[[], str], fallback: Callable[[], str] | None = None) -> str:
        """A name not used before: from ``make``, then from ``fallback`` when ``make`` runs dry,
        then with a number after it."""
        for attempt in range(400):
            name = (fallback or make)() if attempt >= 100 else make()
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        n = 2
        while f"{name}{cn_number(n)}" in self.used_names:
            n += 1
        self.used_names.add(f"{name}{cn_number(n)}")
        return f"{name}{cn_number(n)}"

    def pool(self, words: tuple[str, ...], suffix: str = "") -> str:
        """A place name from the list, or one with 新/东/西/南/北 in front once the list is used up."""
        rng = self.rng
        return self.unique(
            lambda: rng.choice(words) + suffix,
            lambda: rng.choice(("新", "东", "西", "南", "北")) + rng.choice(words) + suffix,
        )

    def weights(self, n: int) -> list[float]:
        return [self.rng.uniform(0.6, 1.4) for _ in range(n)]

    def _plan_city(self) -> None:
        root = self.add(None, f"中共{CITY}委员会", L.COMMITTEE, T.ORGAN, code="QC", short_name="泉城市委")
        shares = split(
            self.total, [0.14] + [0.86 * d.weight / sum(x.weight for x in DISTRICTS) for d in DISTRICTS]
        )
        for i, (district, budget) in enumerate(zip(DISTRICTS, shares[1:], strict=True)):
            self.district(root, i, district, budget)
        self.city_units(root, shares[0])

    def district(self, root: OrgSpec, index: int, d: District, budget: int) -> None:
        org = self.add(
            root,
            f"中共{CITY}{d.name}委员会",
            L.COMMITTEE,
            T.ORGAN,
            code=d.code,
            short_name=f"{d.name}委",
            district=index,
        )
        if d.urban:
            parts = allocate(
                budget,
                [
                    ("streets", 0.52, 0),
                    ("organs", 0.15, 12),
                    ("schools", 0.10, 12),
                    ("soe", 0.08, 20),
                    ("hospital", 0.06, 20),
                    ("two_new", 0.09, 10),
                ],
            )
        else:
            parts = allocate(
                budget,
                [
                    ("towns", 0.58, 0),
                    ("organs", 0.14, 12),
                    ("streets", 0.10, 20),
                    ("schools", 0.09, 12),
                    ("soe", 0.05, 20),
                    ("hospital", 0.04, 20),
                ],
            )
        self.organs(
            org,
            parts["organs"],
            d.name,
            f"中共{CITY}{d.name}直属机关工作委员会",
            f"{d.kind}直机关工委",
            "organ",
        )
        if parts.get("towns"):
            count = max(1, min(len(TOWN_WORDS), round(parts["towns"] / 1400)))
            for share in split(parts["towns"], self.weights(count)):
                self.town(org, d, share)
        if parts["streets"]:
            count = max(1, min(14, round(parts["streets"] / 1500)))
            for share in split(parts["streets"], self.weights(count)):
                self.street(org, d, share)
        if parts["schools"]:
            self.schools(org, d, parts["schools"])
        if parts["soe"]:
            names = DISTRICT_SOES[: max(1, min(len(DISTRICT_SOES), parts["soe"] // 250))]
            for (name, units), share in zip(
                names, split(parts["soe"], self.weights(len(names))), strict=True
            ):
                self.enterprise(org, d.name + name, units, share, "QY")
        if parts["hospital"]:
            self.hospital(org, f"{d.name}人民医院", parts["hospital"])
        if parts.get("two_new"):
            self.two_new(org, d, parts["two_new"])

    def city_units(self, root: OrgSpec, budget: int) -> None:
        parts = allocate(budget, [("organs", 0.5, 0), ("education", 0.3, 30), ("soe", 0.2, 30)])
        self.organs(
            root,
            parts["organs"],
            CITY,
            f"中共{CITY}委市直机关工作委员会",
            "市直机关工委",
            "city_organ",
            code="QC-SZJG",
        )
        if parts["education"]:
            org = self.add(
                root,
                f"中共{CITY}委教育工作委员会",
                L.WORKING_COMMITTEE,
                T.SCHOOL,
                code="QC-JYGW",
                short_name="市委教育工委",
            )
            unis = UNIVERSITIES if parts["education"] >= 300 else UNIVERSITIES[:1]
            for (name, graduate, colleges), share in zip(
                unis, split(parts["education"], [0.65, 0.35][: len(unis)]), strict=True
            ):
                self.university(org, name, graduate, colleges, share)
        if parts["soe"]:
            org = self.add(
                root, f"{CITY}国资委党委", L.COMMITTEE, T.SOE, code="QC-GZW", short_name="市国资委党委"
            )
            count = max(1, min(len(CITY_SOES), parts["soe"] // 400))
            for (name, units), share in zip(
                CITY_SOES[:count], split(parts["soe"], self.weights(count)), strict=True
            ):
                self.enterprise(org, name, units, share, "QY")

    def organs(
        self, parent: OrgSpec, budget: int, place: str, name: str, short: str, profile: str, code: str = ""
    ) -> None:
        if not budget:
            return
        org = self.add(parent, name, L.WORKING_COMMITTEE, T.ORGAN, tag="JG", code=code, short_name=short)
        count = max(1, min(len(BUREAUS), budget // 45))
        bureaus = list(BUREAUS[:7]) + self.rng.sample(BUREAUS[7:], len(BUREAUS) - 7)
        retired = allocate(budget, [("bureaus", 0.9, 0), ("retired", 0.1, 20)])["retired"]
        shares = split(budget - retired, self.weights(count))
        division = "处" if place == CITY else "科"
        for entry, share in zip(bureaus[:count], shares, strict=True):
            bureau = place + entry[1:] if entry.startswith("@") else place + entry
            if share < 40:
                self.branch(org, f"{bureau}机关党支部", T.ORGAN, profile, share, "BM")
                continue
            inner = allocate(share, [("staff", 0.85, 0), ("retired", 0.15, 12)])
            if share < 90:
                unit = self.add(org, f"{bureau}机关党总支", L.GENERAL_BRANCH, T.ORGAN, tag="BM")
                self.branches(
                    unit,
                    inner["staff"],
                    profile,
                    T.ORGAN,
                    lambda i, b=bureau: f"{b}机关第{cn_number(i)}党支部",
                )
            else:
                unit = self.add(org, f"{bureau}机关党委", L.COMMITTEE, T.ORGAN, tag="BM")
                self.branches(
                    unit,
                    inner["staff"],
                    profile,
                    T.ORGAN,
                    lambda i, b=bureau: (
                        f"{b}{DIVISIONS[i - 1]}{'' if i == 1 or i > 9 else division}党支部"
                        if i <= len(DIVISIONS)
                        else f"{b}机关第{cn_number(i)}党支部"
                    ),
                )
            if inner["retired"]:
                self.branch(unit, f"{bureau}离退休干部党支部", T.ORGAN, "organ_retired", inner["retired"])
        if retired:
            self.branch(org, f"{place}直属机关离退休干部党支部", T.ORGAN, "organ_retired", retired)

    def street(self, district: OrgSpec, d: District, budget: int) -> None:
        base = self.pool(STREET_WORDS)
        word = f"{base}街道"
        org = self.add(
            district,
            f"中共{CITY}{d.name}{word}工作委员会",
            L.WORKING_COMMITTEE,
            T.COMMUNITY,
            tag="JD",
            short_name=f"{word}党工委",
        )
        parts = allocate(
            budget,
            [
                ("communities", 0.66, 0),
                ("office", 0.10, 8),
                ("private", 0.12, 8),
                ("social", 0.05, 6),
                ("rider", 0.07, 8),
            ],
        )
        if parts["office"]:
            self.branches(
                org,
                parts["office"],
                "street_office",
                T.ORGAN,
                lambda i: f"{word}机关第{cn_number(i)}党支部" if i > 1 else f"{word}机关党支部",
            )
        count = max(1, round(parts["communities"] / 130))
        for share in split(parts["communities"], self.weights(count)):
            self.community(org, share)
        if parts["private"]:
            self.companies(org, parts["private"])
        if parts["social"]:
            self.social_orgs(org, parts["social"], word)
        if parts["rider"]:
            self.branches(
                org,
                parts["rider"],
                "rider",
                T.PRIVATE,
                lambda i: self.unique(
                    lambda: f"{base}片区{self.rng.choice(('外卖配送', '快递物流', '网约车'))}行业党支部"
                ),
                "LX",
            )

    def community(self, street: OrgSpec, budget: int) -> None:
        name = self.pool(COMMUNITY_WORDS, "社区")
        if budget < 50:
            self.branch(street, f"{name}党支部", T.COMMUNITY, "community", budget, "SQ")
            return
        level, title = (L.COMMITTEE, "党委") if budget >= 100 else (L.GENERAL_BRANCH, "党总支")
        org = self.add(street, f"{name}{title}", level, T.COMMUNITY, tag="SQ")
        parts = allocate(budget, [("residents", 0.8, 0), ("retired", 0.2, 15)])
        self.branches(
            org, parts["residents"], "community", T.COMMUNITY, lambda i: f"{name}第{cn_number(i)}党支部"
        )
        if parts["retired"]:
            self.branch(org, f"{name}老党员党支部", T.COMMUNITY, "community_retired", parts["retired"])

    def town(self, county: OrgSpec, d: District, budget: int) -> None:
        word = self.pool(TOWN_WORDS, "镇")
        org = self.add(
            county, f"中共{CITY}{d.name}{word}委员会", L.COMMITTEE, T.RURAL, tag="Z", short_name=f"{word}党委"
        )
        parts = allocate(
            budget,
            [
                ("villages", 0.78, 0),
                ("office", 0.08, 8),
                ("migrant", 0.05, 15),
                ("clinic", 0.03, 8),
                ("school", 0.03, 8),
                ("private", 0.03, 8),
            ],
        )
        if parts["office"]:
            self.branches(
                org,
                parts["office"],
                "street_office",
                T.ORGAN,
                lambda i: f"{word}机关第{cn_number(i)}党支部" if i > 1 else f"{word}机关党支部",
            )
        rest = parts["villages"]
        while rest > 0:
            village = self.village_name()
            if rest >= 75 and self.rng.random() < 0.07:
                # A large village: a 党总支 over two or three branches.
                size = self.rng.randint(60, 110)
                size = rest if rest - size < 3 else size
                unit = self.add(org, f"{village}党总支", L.GENERAL_BRANCH, T.RURAL, tag="C")
                for i, share in enumerate(split(size, self.weights(2 + (size >= 85))), start=1):
                    self.branch(unit, f"{village}第{cn_number(i)}党支部", T.RURAL, "village", share)
            else:
                size = self.next_size(rest, "village")
                self.branch(org, f"{village}党支部", T.RURAL, "village", size, "C")
            rest -= size
        if parts["migrant"]:
            self.branches(
                org,
                parts["migrant"],
                "migrant",
                T.RURAL,
                lambda i: (
                    f"{word}在外流动党员第{cn_number(i)}党支部" if i > 1 else f"{word}在外流动党员党支部"
                ),
            )
        if parts["clinic"]:
            self.branch(org, f"{word}卫生院党支部", T.INSTITUTION, "hospital", parts["clinic"])
        if parts["school"]:
            self.branch(org, f"{word}中心学校党支部", T.SCHOOL, "teacher", parts["school"], "XX")
        if parts["private"]:
            self.branches(
                org,
                parts["private"],
                "private",
                T.PRIVATE,
                lambda i: (
                    f"{word}非公企业联合第{cn_number(i)}党支部" if i > 1 else f"{word}非公企业联合党支部"
                ),
                "LX",
            )

    def village_name(self) -> str:
        rng = self.rng

        def make() -> str:
            surname = SURNAMES.pick(rng)[:1]
            u = rng.random()
            if u < 0.45:
                return surname + rng.choice(VILLAGE_SUFFIXES) + "村"
            if u < 0.8:
                return rng.choice(VILLAGE_PREFIXES) + surname + rng.choice(("", "家", "庄", "官庄")) + "村"
            return rng.choice(("", "", "东", "西", "南", "北")) + rng.choice(VILLAGE_NATURE) + "村"

        return self.unique(make)

    def company_name(self) -> str:
        rng = self.rng
        return self.unique(
            lambda: (
                rng.choice(("山东", "泉城", "", ""))
                + rng.choice(COMPANY_CORES)
                + rng.choice(COMPANY_TRADES)
                + rng.choice(("有限公司", "有限公司", "股份有限公司"))
            )
        )

    def companies(self, parent: OrgSpec, budget: int) -> None:
        for size in self.sizes(budget, "private"):
            if size < 3:
                self.branch(parent, f"{self.company_name()}党支部", T.PRIVATE, "private", size, "QY")
            elif self.rng.random() < 0.15:
                self.branch(
                    parent,
                    self.unique(lambda: f"{self.rng.choice(COMPANY_CORES)}商务楼宇联合党支部"),
                    T.PRIVATE,
                    "private",
                    size,
                    "QY",
                )
            else:
                self.branch(parent, f"{self.company_name()}党支部", T.PRIVATE, "private", size, "QY")

    def social_orgs(self, parent: OrgSpec, budget: int, place: str) -> None:
        rng = self.rng
        kinds = (
            "{c}律师事务所",
            "{c}会计师事务所",
            "{p}社会工作服务中心",
            "{c}养老服务中心",
            "{p}志愿服务协会",
            "{c}文化艺术培训学校",
        )
        for size in self.sizes(budget, "social"):
            name = self.unique(lambda: rng.choice(kinds).format(c=rng.choice(COMPANY_CORES), p=place))
            self.branch(parent, f"{name}党支部", T.SOCIAL, "social", size, "SH")

    def two_new(self, district: OrgSpec, d: District, budget: int) -> None:
        org = self.add(
            district,
            f"{d.name}非公有制企业和社会组织综合党委",
            L.COMMITTEE,
            T.PRIVATE,
            tag="LX",
            short_name=f"{d.name}两新综合党委",
        )
        parts = allocate(budget, [("private", 0.6, 0), ("social", 0.2, 6), ("rider", 0.2, 10)])
        self.companies(org, parts["private"])
        if parts["social"]:
            self.social_orgs(org, parts["social"], d.name)
        if parts["rider"]:
            self.branches(
                org,
                parts["rider"],
                "rider",
                T.PRIVATE,
                lambda i: self.unique(
                    lambda: f"{d.name}{self.rng.choice(('快递物流', '外卖配送', '网约车'))}行业党支部"
                ),
                "LX",
            )

    def enterprise(self, parent: OrgSpec, name: str, units: tuple[str, ...], budget: int, tag: str) -> None:
        short = name.replace("股份有限公司", "").replace("集团有限公司", "集团").replace("有限公司", "")
        org = self.add(parent, f"{name}党委", L.COMMITTEE, T.SOE, tag=tag, short_name=f"{short}党委")
        parts = allocate(budget, [("units", 0.75, 0), ("office", 0.15, 10), ("retired", 0.10, 15)])
        if parts["office"]:
            self.branches(org, parts["office"], "soe", T.SOE, lambda i: f"{short}机关第{cn_number(i)}党支部")
        if parts["units"] >= 500:
            count = max(2, min(len(units), parts["units"] // 300))
            for unit, share in zip(units[:count], split(parts["units"], self.weights(count)), strict=True):
                level, title = (L.COMMITTEE, "党委") if share >= 120 else (L.GENERAL_BRANCH, "党总支")
                sub = self.add(org, f"{short}{unit}{title}", level, T.SOE, tag="FGS")
                self.branches(sub, share, "soe", T.SOE, lambda i, u=unit: f"{short}{u}第{cn_number(i)}党支部")
        else:

            def unit_name(i: int) -> str:
                if i <= len(units):
                    return f"{short}{units[i - 1]}党支部"
                return f"{short}第{cn_number(i)}党支部"

            self.branches(org, parts["units"], "soe", T.SOE, unit_name)
        if parts["retired"]:
            self.branch(org, f"{short}离退休党支部", T.SOE, "soe_retired", parts["retired"])

    def hospital(self, parent: OrgSpec, name: str, budget: int) -> None:
        if budget < 40:
            self.branch(parent, f"{name}党支部", T.INSTITUTION, "hospital", budget, "YY")
            return
        org = self.add(parent, f"{name}党委", L.COMMITTEE, T.INSTITUTION, tag="YY")
        self.branches(
            org,
            budget,
            "hospital",
            T.INSTITUTION,
            lambda i: (
                f"{name}{HOSPITAL_UNITS[i - 1]}党支部"
                if i <= len(HOSPITAL_UNITS)
                else f"{name}第{cn_number(i)}党支部"
            ),
        )

    def schools(self, district: OrgSpec, d: District, budget: int) -> None:
        org = self.add(
            district,
            f"中共{d.name}委教育工作委员会",
            L.WORKING_COMMITTEE,
            T.SCHOOL,
            tag="JY",
            short_name=f"{d.kind}委教育工委",
        )
        count = max(1, min(len(SCHOOLS), budget // 35))
        for entry, share in zip(SCHOOLS[:count], split(budget, self.weights(count)), strict=True):
            school = d.name + entry
            if share < 30:
                self.branch(org, f"{school}党支部", T.SCHOOL, "teacher", share, "XX")
                continue
            unit = self.add(org, f"{school}党总支", L.GENERAL_BRANCH, T.SCHOOL, tag="XX")
            parts = allocate(share, [("teachers", 0.8, 0), ("retired", 0.2, 8)])
            self.branches(
                unit,
                parts["teachers"],
                "teacher",
                T.SCHOOL,
                lambda i, s=school: f"{s}教师第{cn_number(i)}党支部",
            )
            if parts["retired"]:
                self.branch(unit, f"{school}退休教师党支部", T.SCHOOL, "teacher_retired", parts["retired"])

    def university(
        self, parent: OrgSpec, name: str, graduate: bool, colleges: tuple[str, ...], budget: int
    ) -> None:
        org = self.add(parent, f"{name}党委", L.COMMITTEE, T.SCHOOL, tag="DX")
        parts = allocate(budget, [("colleges", 0.85, 0), ("office", 0.10, 10), ("retired", 0.05, 10)])
        if parts["office"]:
            self.branches(
                org, parts["office"], "university", T.SCHOOL, lambda i: f"{name}机关第{cn_number(i)}党支部"
            )
        count = max(1, min(len(colleges), parts["colleges"] // 80))
        for college, share in zip(
            colleges[:count], split(parts["colleges"], self.weights(count)), strict=True
        ):
            level, title = (L.COMMITTEE, "党委") if share >= 150 else (L.GENERAL_BRANCH, "党总支")
            unit = self.add(org, f"{name}{college}{title}", level, T.SCHOOL, tag="XY")
            inner = allocate(
                share, [("students", 0.62, 0), ("staff", 0.3, 8), ("graduate", 0.08 if graduate else 0, 10)]
            )
            if inner["staff"]:
                self.branches(
                    unit,
                    inner["staff"],
                    "university",
                    T.SCHOOL,
                    lambda i, c=college: f"{name}{c}教工第{cn_number(i)}党支部",
                )
            word = "本科生" if graduate else "学生"
            self.branches(
                unit,
                inner["students"],
                "student",
                T.SCHOOL,
                lambda i, c=college, w=word: f"{name}{c}{w}第{cn_number(i)}党支部",
            )
            if inner["graduate"]:
                self.branches(
                    unit,
                    inner["graduate"],
                    "student",
                    T.SCHOOL,
                    lambda i, c=college: f"{name}{c}研究生第{cn_number(i)}党支部",
                )
        if parts["retired"]:
            self.branch(org, f"{name}离退休党支部", T.SCHOOL, "teacher_retired", parts["retired"])

    def _pick_demo_branches(self) -> tuple[OrgSpec, list[OrgSpec]]:
        branches = [o for o in self.orgs if o.level == L.BRANCH]

        def first(candidates: list[OrgSpec], *tests: Callable[[OrgSpec], bool]) -> OrgSpec | None:
            for test in tests:
                for org in candidates:
                    if test(org):
                        return org
            return None

        sec = first(
            [b for b in branches if b.district == 0 and not b.groups],
            lambda b: b.profile == "community" and 12 <= b.size <= 35,
            lambda b: 12 <= b.size <= 50,
            lambda b: b.size >= 10,
        ) or first([b for b in branches if not b.groups], lambda b: b.size >= 10)
        if sec is None:  # pragma: no cover - MIN_MEMBERS makes this impossible
            raise ValueError("没有足够大的党支部用于演示账号")
        reviewers = []
        for index in range(len(DISTRICTS)):
            # A small city may have a single branch in the first district; its reviewer is then a
            # committee member of branch_sec's branch.
            found = first(
                [b for b in branches if b.district == index],
                lambda b: b is not sec and b.profile == "organ" and b.size >= 3,
                lambda b: b is not sec and b.size >= 3,
                lambda b: b is sec,
            )
            if found is None:  # pragma: no cover
                raise ValueError("每个区县都需要至少一个党支部")
            reviewers.append(found)
        return sec, reviewers

    # --- members -------------------------------------------------------------------------------

    def members(self) -> Iterator[MemberSpec]:
        """Every member, branch by branch in tree order. The secretary comes first, then the
        committee, then the others (spread over the branch's party groups when it has them)."""
        wanted = {self.sec_branch.index, *(b.index for b in self.reviewer_branches)}
        names = NameMaker(self.rng)
        for org in self.orgs:
            if org.level != L.BRANCH:
                continue
            prof = PROFILES[org.profile]
            region = DISTRICTS[org.district].region if org.district is not None else ""
            for i in range(org.size):
                if i == 0:
                    role, target = "secretary", org.index
                elif i <= org.committee:
                    role, target = "committee", org.index
                else:
                    role = "member"
                    target = (
                        org.groups[(i - 1 - org.committee) % len(org.groups)] if org.groups else org.index
                    )
                spec = self.person(prof, role, target, org.index, region, names)
                if org.index in wanted:
                    self.picked.setdefault(org.index, []).append(spec)
                yield spec

    def person(
        self, prof: Profile, role: str, org: int, branch: int, region: str, names: NameMaker
    ) -> MemberSpec:
        rng = self.rng
        kind = prof.kinds.pick(rng) if role == "member" else prof.lead_kind
        (low, high, mode), base_categories, kind_edu = KINDS[kind]
        if role != "member":
            low, high, mode = LEAD_AGES[kind]
        age = int(rng.triangular(low, high + 1, mode))
        male = rng.random() < prof.male
        birth = date(REFERENCE_DATE.year - age - 1, 1, 1) + timedelta(days=rng.randrange(365))

        status = STATUS_FULL.pick(rng) if role != "member" or kind == "retiree" else prof.statuses.pick(rng)
        if (status in (S.ACTIVIST, S.CANDIDATE) and age > 50) or (status == S.PROBATIONARY and age > 60):
            status = S.FULL
        joined = full = None
        adult = add_years(birth, 18)
        if status == S.FULL:
            latest = REFERENCE_DATE - timedelta(days=366)
            if adult > latest:
                status = S.PROBATIONARY
            else:
                end = min(latest, add_years(birth, 55))
                joined = adult + timedelta(days=int(rng.random() ** 2 * (end - adult).days))
                full = add_years(joined, 1)
        if status == S.PROBATIONARY:
            start = max(adult, REFERENCE_DATE - timedelta(days=364))
            joined = start + timedelta(days=rng.randrange((REFERENCE_DATE - start).days))

        categories = list(base_categories)
        exempt, reason = False, ""
        if kind in ("retiree", "farmer") and age >= 75 and rng.random() < min(0.8, 0.2 + (age - 75) * 0.04):
            categories.append(C.FRAIL)
            exempt, reason = True, EXEMPT_REASONS.pick(rng)
        leader_chance = 0.5 if role == "secretary" else prof.leader
        if (
            kind == "staff"
            and prof.leader
            and age >= 35
            and status == S.FULL
            and rng.random() < leader_chance
        ):
            categories.append(C.LEADER)
        if role == "secretary":
            categories.append(C.SECRETARY)
        elif role == "committee":
            categories.append(C.COMMITTEE)
        categories.sort(key=CATEGORY_ORDER.__getitem__)

        if kind == "retiree":
            education = (prof.old_edu or kind_edu).pick(rng)
        elif kind in ("staff", "student", "new_sector"):
            education = (prof.edu or kind_edu).pick(rng)
        else:
            education = kind_edu.pick(rng)

        name = names.make(male, birth.year)
        ethnicity = ETHNICITIES.pick(rng)
        id_number = self.id_number(
            region if region and rng.random() < 0.75 else rng.choice(PROVINCE_REGIONS), birth, male
        )
        phone = "" if age >= 80 and rng.random() < 0.15 else self.phone()
        return MemberSpec(
            org=org,
            branch=branch,
            role=role,
            name=name,
            gender=str(Gender.MALE if male else Gender.FEMALE),
            birth_date=birth,
            ethnicity=ethnicity,
            education=str(education),
            id_number=id_number,
            phone=phone,
            joined_on=joined,
            full_member_on=full,
            status=str(status),
            categories=[str(c) for c in categories],
            is_exempt=exempt,
            exempt_reason=reason,
        )

    def id_number(self, region: str, birth: date, male: bool) -> str:
        rng = self.rng
        while True:
            sequence = rng.randrange(1, 500) * 2 + (1 if male else 0)  # odd = male (GB 11643)
            first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + check_char(first17)

    def phone(self) -> str:
        rng = self.rng
        while True:
            number = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    # --- accounts ------------------------------------------------------------------------------

    def accounts(self) -> list[AccountSpec]:
        """The demo accounts; call after ``members()`` has been consumed."""
        sec_members = self.picked[self.sec_branch.index]
        secretary = sec_members[0]
        ordinary = next(
            (m for m in sec_members if m.role == "member" and m.status == S.FULL),
            next(m for m in sec_members if m.role == "member"),
        )
        names = NameMaker(random.Random(f"{self.seed}-accounts"))
        district = next(o for o in self.orgs if o.depth == 1 and o.district == 0)
        out = [
            AccountSpec("city_admin", RoleCode.ORG_ADMIN, 0, names.make(True, 1975), pii=True),
            AccountSpec("district_admin", RoleCode.ORG_ADMIN, district.index, names.make(False, 1980)),
            AccountSpec(
                "branch_sec",
                RoleCode.BRANCH_ADMIN,
                self.sec_branch.index,
                secretary.name,
                secretary.id_number,
            ),
            AccountSpec("member1", RoleCode.MEMBER, self.sec_branch.index, ordinary.name, ordinary.id_number),
        ]
        for i, branch in enumerate(self.reviewer_branches, start=1):
            member = self.picked[branch.index][1 if branch is self.sec_branch else 0]
            out.append(
                AccountSpec(f"reviewer{i}", RoleCode.REVIEWER, branch.index, member.name, member.id_number)
            )
        out += [
            AccountSpec("sysadmin", RoleCode.SYSADMIN, 0, names.make(True, 1985)),
            AccountSpec("secadmin", RoleCode.SECADMIN, 0, names.make(False, 1983)),
            AccountSpec("auditor", RoleCode.AUDITOR, 0, names.make(True, 1979)),
        ]
        return out


class NameMaker:
    """Chinese personal names: a surname (a few two-character ones such as 欧阳) and a given name of
    one or two characters, with names typical of the generation for the old and the young."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def make(self, male: bool, birth_year: int) -> str:
        rng = self.rng
        surname = SURNAMES.pick(rng)
        u = rng.random()
        if birth_year < 1965 and u < 0.35:
            given = rng.choice(OLD_MALE if male else OLD_FEMALE)
        elif birth_year >= 1995 and u < 0.3:
            given = rng.choice(YOUNG_MALE if male else YOUNG_FEMALE)
        else:
            chars = MALE_CHARS if male else FEMALE_CHARS
            if rng.random() < (0.45 if len(surname) == 2 else 0.28):
                given = rng.choice(chars)
            elif not male and rng.random() < 0.04:
                given = rng.choice(chars) * 2  # 婷婷
            else:
                first = rng.choice(chars)
                second = rng.choice(chars)
                while second == first:
                    second = rng.choice(chars)
                given = first + second
        return surname + given


# --- Writing a plan -------------------------------------------------------------------------------


@dataclass
class SeedResult:
    members: int
    orgs_by_level: dict[str, int]
    statuses: dict[str, int]
    too_small: int
    too_large: int
    accounts: list[tuple[str, str, str]]  # username, role label, scope
    seconds: float
    seed: int
    study: StudyResult | None = None
    lectures: LectureResult | None = None
    supervision: list[str] = field(default_factory=list)


def has_data() -> bool:
    from partyedu.organizations.models import Organization

    return Organization.objects.exists()


DEMO_USERNAMES = (
    "city_admin",
    "district_admin",
    "branch_sec",
    "member1",
    *(f"reviewer{i}" for i in range(1, len(DISTRICTS) + 1)),
    # 督导员 of the guidance team (demo.supervision_guidance): read-only over the streets it covers.
    "inspector1",
    "inspector2",
    "sysadmin",
    "secadmin",
    "auditor",
)


@transaction.atomic
def clear_data() -> None:
    """Remove the organisation tree with its members, role assignments and grants
    (``seed_demo --force``). Accounts stay — the demo accounts are reused by the next seed — and so
    does the audit log, which is append-only."""
    from partyedu.accounts.models import PiiGrant, RoleAssignment, User
    from partyedu.competitions import models as competitions
    from partyedu.core.ledger import append_only_purge
    from partyedu.learning import models as learning
    from partyedu.lectures import models as lectures
    from partyedu.members.models import Member, MemberTransfer
    from partyedu.organizations.models import Organization
    from partyedu.study import models as study

    # The learning-hours ledger is append-only; removing the demo city is the one purge it admits.
    ledger = learning.LearningHourEntry
    with append_only_purge(ledger, reason="seed_demo --force removes the demo data"):
        ledger.objects.all()._raw_delete(ledger.objects.db)
    # What supervision derived and recorded about the city (reports, dispatches, inspections,
    # assessments) goes first: it points at organisations, activities and lectures. A few hundred
    # rows; the ORM's collector orders their dependents.
    from django.apps import apps

    from partyedu.demo.exams import clear_exams

    clear_exams()  # attempts and exams point at members and organisations (PROTECT)
    from partyedu.demo.points import clear_points

    clear_points()  # the points ledger and manual records point at members (PROTECT)
    from partyedu.demo.appraisal import clear_appraisal

    clear_appraisal()  # appraisals, ballots and follow-ups point at members (PROTECT)
    from partyedu.demo.development import clear_development

    clear_development()  # cases point at members, organisations and activities (PROTECT)
    from partyedu.demo.service import clear_service

    clear_service()  # agreements, talks, pledges and bookings point at organisations (PROTECT)
    for model in reversed(list(apps.get_app_config("supervision").get_models())):
        model._default_manager.all().delete()
    # Study and learning rows first (largest first, children before parents), each table in one
    # statement where nothing depends on it.
    for model in (
        competitions.Certificate,
        competitions.Award,
        competitions.AwardCategory,
        competitions.Review,
        competitions.RoundReviewer,
        competitions.RoundEntry,
        competitions.Entry,
        competitions.Category,
        competitions.Criterion,
        competitions.Round,
        competitions.Competition,
        lectures.LibraryItem,
        lectures.LectureSeries,
        lectures.LectureRating,
        lectures.LectureFile,
        lectures.LectureSpeaker,
        lectures.Lecture,
        lectures.TopicTask,
        lectures.TopicProposal,
        lectures.TopicCall,
        lectures.RotationSlot,
        lectures.Rotation,
        lectures.Lecturer.tags.through,
        lectures.Lecturer,
        learning.MemberYearHours,
        learning.MemberRequirement,
        learning.OrgRequirementCounts,
        learning.OrgYearCompletion,
        learning.DailyOnlineStudy,
        learning.ResourceProgress,
        learning.OnlineResource,
        learning.Column,
        learning.HourRequirement,
        study.Attendance,
        study.ActivityFile,
        study.Activity,
        study.ClassEnrollment,
        study.TrainingClass,
        study.MaterialDistribution,
        study.StudyMaterial,
        study.RequiredTopic,
        study.StudyPlan,
        study.TeachingSite,
        study.EducationBase,
        study.CadenceRule,
        study.CentralGroupMembership,
    ):
        model.objects.all()._raw_delete(model.objects.db)
    MemberTransfer.objects.all().delete()
    Member.objects.only("id").delete()
    RoleAssignment.objects.all().delete()
    PiiGrant.objects.all().delete()
    User.objects.filter(username__in=DEMO_USERNAMES).update(mobile="", mobile_hash="")
    depths = Organization.objects.order_by("-depth").values_list("depth", flat=True).distinct()
    for depth in list(depths):
        Organization.objects.filter(depth=depth).delete()


def demo_authenticator(user: User) -> None:
    """Give a demo account whose role requires a second factor the shared demo authenticator
    (replacing whatever an earlier demo session bound), without recovery codes."""
    from base64 import b32decode

    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(
        user=user, name="演示验证器", key=b32decode(DEMO_OTP_SECRET).hex(), confirmed=True
    )


def demo_otp_accounts() -> list[str]:
    """The demo accounts that still sign in with the demo authenticator."""
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    names = TOTPDevice.objects.filter(
        user__username__in=DEMO_USERNAMES, key=b32decode(DEMO_OTP_SECRET).hex(), confirmed=True
    ).values_list("user__username", flat=True)
    order = {name: i for i, name in enumerate(DEMO_USERNAMES)}
    return sorted(names, key=order.__getitem__)


def demo_otp_code(username: str) -> str:
    """A code the demo authenticator of this account accepts now ("" without one): for tools
    (bench) that sign in through the API as a person would."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from partyedu.accounts.otp import fresh_totp_code

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    return fresh_totp_code(device) if device is not None else ""


def demo_user(username: str, display_name: str, mobile: str) -> Any:
    """Create a demo account, or reset one left by an earlier seed to the demo password."""
    from partyedu.accounts.models import User
    from partyedu.accounts.services import password_change, user_create

    user = User.objects.filter(username=username).first()
    if user is None:
        return user_create(
            actor=None, username=username, password=DEMO_PASSWORD, display_name=display_name, mobile=mobile
        )
    user.display_name, user.mobile, user.is_active = display_name, mobile, True
    user.save()
    return password_change(actor=None, user=user, new_password=DEMO_PASSWORD)


def build_demo(
    *,
    members: int = DEFAULT_MEMBERS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    study: bool = True,
) -> SeedResult:
    """Write a demo city into an empty database and return a summary. With ``study`` (the
    default) the city also gets its year of activities, attendance, classes, study plan and
    online study, and the learning-hour ledger derived from them (``demo.study``)."""
    from partyedu.accounts.models import Role
    from partyedu.accounts.otp import otp_required
    from partyedu.accounts.services import pii_grant_create, role_assign
    from partyedu.core.pii import mask_id_number, mask_mobile
    from partyedu.members.models import Member
    from partyedu.members.services import member_summaries_rebuild
    from partyedu.organizations.models import Organization

    started = time.perf_counter()
    say = progress or (lambda message: None)
    plan = DemoPlan(members, seed)
    with transaction.atomic():
        ids: dict[int, int] = {}
        for depth in sorted({o.depth for o in plan.orgs}):
            level = [o for o in plan.orgs if o.depth == depth]
            Organization.objects.bulk_create(
                [
                    Organization(
                        parent_id=ids[o.parent] if o.parent is not None else None,
                        name=o.name,
                        short_name=o.short_name,
                        code=o.code,
                        level=o.level,
                        org_type=o.org_type,
                        path=o.path,
                        depth=o.depth,
                        sort_order=o.sort_order,
                        is_active=True,
                        name_initials=cached_initials(o.name),
                    )
                    for o in level
                ],
                batch_size=500,
            )
            by_path = dict(Organization.objects.filter(depth=depth).values_list("path", "id"))
            ids.update((o.index, by_path[o.path]) for o in level)
        say(f"党组织 {len(plan.orgs)} 个")

        org_paths = {o.index: o.path for o in plan.orgs}
        statuses: Counter[str] = Counter()
        batch: list[Member] = []
        specs: list[MemberSpec] = []
        people: list[Person] = []

        def write_batch() -> None:
            Member.objects.bulk_create(batch)
            people.extend(
                Person(
                    pk=obj.pk,
                    org=spec.org,
                    branch=spec.branch,
                    role=spec.role,
                    status=spec.status,
                    categories=tuple(spec.categories),
                    exempt=spec.is_exempt,
                    name=spec.name,
                )
                for obj, spec in zip(batch, specs, strict=True)
            )
            batch.clear()
            specs.clear()

        count = 0
        for spec in plan.members():
            statuses[spec.status] += 1
            specs.append(spec)
            batch.append(
                Member(
                    organization_id=ids[spec.org],
                    org_path=org_paths[spec.org],
                    id_number_masked=mask_id_number(spec.id_number),
                    phone_masked=mask_mobile(spec.phone),
                    name=spec.name,
                    name_initials=cached_initials(spec.name),
                    gender=spec.gender,
                    birth_date=spec.birth_date,
                    ethnicity=spec.ethnicity,
                    education=spec.education,
                    id_number=spec.id_number,
                    id_number_hash=id_number_index(spec.id_number),
                    phone=spec.phone,
                    # 发展对象 became candidates 1–12 months before the reference date, spread by
                    # the ID number's sequence digits (no draw from ``rng``: the plan stays as it was).
                    candidate_on=REFERENCE_DATE - timedelta(days=30 + int(spec.id_number[14:17]) % 330)
                    if spec.status == S.CANDIDATE
                    else None,
                    joined_on=spec.joined_on,
                    full_member_on=spec.full_member_on,
                    status=spec.status,
                    categories=spec.categories,
                    is_exempt=spec.is_exempt,
                    exempt_reason=spec.exempt_reason,
                )
            )
            if len(batch) >= MEMBER_BATCH:
                count += len(batch)
                write_batch()
                if count % 20_000 == 0:
                    say(f"党员 {count} 名")
        count += len(batch)
        write_batch()
        member_summaries_rebuild()  # direct member counts per organisation

        orgs = {o.index: o for o in plan.orgs}
        role_names = dict(Role.objects.values_list("code", "name"))
        rows: list[tuple[str, str, str]] = []
        users: dict[str, Any] = {}
        account_members: dict[str, int] = {}
        for account in plan.accounts():
            member = None
            mobile = ""
            if account.member_key:
                member = Member.objects.get(id_number_hash=id_number_index(account.member_key))
                mobile = member.phone
                account_members[account.username] = member.pk
            user = demo_user(account.username, account.display_name, mobile)
            users[account.username] = user
            org = Organization.objects.get(pk=ids[account.org])
            role_assign(actor=None, user=user, role_code=account.role, organization=org)
            scope = orgs[account.org].short_name or org.name
            if account.pii:
                pii_grant_create(
                    actor=None, user=user, organization=org, reason="演示：市委组织部查阅党员信息"
                )
                scope += "（含敏感信息授权）"
            if member is not None:
                Member.objects.filter(pk=member.pk).update(user=user)
            if otp_required(user):
                demo_authenticator(user)
            rows.append((account.username, role_names.get(account.role, account.role), scope))

        say(f"党员 {count} 名、演示账号 {len(rows)} 个")
        study_result = None
        lecture_result = None
        supervision_lines: list[str] = []
        if study:
            study_result = build_study(
                plan=plan,
                org_ids=ids,
                people=people,
                seed=seed,
                users=users,
                account_members=account_members,
                progress=say,
            )
            lecture_result = build_competition(users=users, seed=seed)
            say(f"党课评选 1 项、参赛作品 {lecture_result.entries} 件")
            build_lecture_year(result=lecture_result, users=users, seed=seed, progress=say)
            from partyedu.demo.appraisal import seed_appraisal
            from partyedu.demo.development import seed_development
            from partyedu.demo.exams import seed_exams
            from partyedu.demo.points import seed_points
            from partyedu.demo.service import seed_service
            from partyedu.demo.supervision import build_supervision

            today = timezone.localdate()
            # Every record of the year comes before the monthly reports, whose figures are frozen
            # when submitted: a record added after them would show as "数据已变化" on an approved
            # report. Service first (a points scheme may count its hours), then exams, the points
            # (derived from the attendance, lectures, exams and service above), the appraisal (its
            # evidence reads the points) and development (its votes are held at the year's 支部党员大会
            # and it adds the people it admits).
            service_lines = seed_service(seed=seed, today=today, say=say)
            more_lines = seed_exams(seed=seed, today=today, say=say)
            more_lines += seed_points(seed=seed, say=say)
            more_lines += seed_appraisal(seed=seed, today=today, say=say)
            more_lines += seed_development(seed=seed, today=today, say=say)
            supervision_lines = build_supervision(seed=seed, today=today, say=say)
            supervision_lines += service_lines + more_lines
        by_level = Counter(o.level for o in plan.orgs)
        too_small, too_large = sizing_counts(plan)
        changes: dict[str, Any] = {
            "seed": seed,
            "members": count,
            "organizations": len(plan.orgs),
            "accounts": [r[0] for r in rows],
        }
        message = f"生成演示数据：{len(plan.orgs)}个党组织、{count}名党员（seed={seed}）"
        if study_result is not None:
            changes.update(
                activities=study_result.activities,
                attendance=study_result.attendance,
                hour_entries=study_result.hour_entries,
            )
            message = (
                f"生成演示数据：{len(plan.orgs)}个党组织、{count}名党员、{study_result.activities}次学习活动、"
                f"{study_result.attendance}条出勤记录（seed={seed}）"
            )
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            object_type="core.demo_seed",
            object_repr="演示数据",
            changes=changes,
            message=message,
        )
    analyze()
    return SeedResult(
        members=count,
        orgs_by_level={level: by_level[level] for level in OrgLevel.values if by_level[level]},
        statuses={status: statuses[status] for status in MemberStatus.values if statuses[status]},
        too_small=too_small,
        too_large=too_large,
        accounts=rows,
        seconds=time.perf_counter() - started,
        seed=seed,
        study=study_result,
        lectures=lecture_result,
        supervision=supervision_lines,
    )


def demo_account_rows() -> list[tuple[str, str, str]]:
    """The demo accounts found in the database: user name, role and where it is held."""
    from partyedu.accounts.models import PiiGrant, RoleAssignment

    order = {name: i for i, name in enumerate(DEMO_USERNAMES)}
    assignments = RoleAssignment.objects.filter(user__username__in=DEMO_USERNAMES).select_related(
        "user", "role", "organization"
    )
    granted = set(
        PiiGrant.objects.filter(user__username__in=DEMO_USERNAMES, revoked_at__isnull=True).values_list(
            "user__username", "organization_id"
        )
    )
    rows = []
    for a in sorted(assignments, key=lambda a: (order[a.user.username], a.role.code, a.organization.path)):
        scope = a.organization.display_name
        if (a.user.username, a.organization_id) in granted:
            scope += "（含敏感信息授权）"
        rows.append((a.user.username, a.role.name, scope))
    return rows


def sizing_counts(plan: DemoPlan) -> tuple[int, int]:
    """Branches with fewer than 3 members and with more than 50, as planned (the 支部条例 warnings)."""
    branches = [o for o in plan.orgs if o.level == L.BRANCH]
    return sum(1 for b in branches if b.size < 3), sum(1 for b in branches if b.size > 50)


def analyze() -> None:
    """Refresh the query planner's statistics after a bulk load."""
    from partyedu.learning.models import LearningHourEntry, MemberRequirement, MemberYearHours
    from partyedu.members.models import Member
    from partyedu.organizations.models import Organization
    from partyedu.study.models import Activity, Attendance

    with connection.cursor() as cursor:
        for model in (
            Organization,
            Member,
            Activity,
            Attendance,
            LearningHourEntry,
            MemberYearHours,
            MemberRequirement,
        ):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- Output ---------------------------------------------------------------------------------------


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def format_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(display_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(pad(str(c), w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return lines


def summary_lines(result: SeedResult, *, accounts: bool = True) -> list[str]:
    levels = "、".join(f"{OrgLevel(k).label}{v}" for k, v in result.orgs_by_level.items())
    statuses = "、".join(f"{MemberStatus(k).label}{v}" for k, v in result.statuses.items())
    lines = [
        f"演示数据已生成（seed={result.seed}，用时 {result.seconds:.1f} 秒）",
        f"党组织 {sum(result.orgs_by_level.values())} 个：{levels}",
        f"党员 {result.members} 名：{statuses}",
        f"规模提示（演示用）：不足3名党员的党支部 {result.too_small} 个，超过50名党员的党支部 {result.too_large} 个",
    ]
    if result.study is not None:
        lines += study_summary_lines(result.study)
    if result.lectures is not None:
        lines += lecture_summary_lines(result.lectures)
    lines += result.supervision
    if accounts:
        lines += ["", f"演示账号（密码均为 {DEMO_PASSWORD}）："]
        lines += format_table(("用户名", "角色", "范围"), result.accounts)
        lines += otp_lines(demo_otp_accounts())
    return lines


def otp_lines(usernames: list[str]) -> list[str]:
    if not usernames:
        return []
    return [
        "",
        f"以下账号登录时还须输入动态验证码：{'、'.join(usernames)}",
        f"演示用验证器密钥（Base32，基于时间，6位，30秒）：{DEMO_OTP_SECRET}",
        "可把密钥添加到手机验证器应用，或运行 python manage.py demo_accounts --otp 查看当前验证码。",
    ]
