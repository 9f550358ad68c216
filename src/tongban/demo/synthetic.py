"""Reproducible synthetic data for the three base registries of 浦东新区 (GB/T 2260 310115).

For demos and benchmarks. Every record is a pure function of ``(seed, index)``: a million people or a
hundred thousand enterprises are generated in constant memory, and an enterprise finds its legal
representative again by regenerating ``person(seed, j)``.

Keys are unique by construction, not by luck. Each key is the image of its index under a bijection:

* a resident ID number is ``region + birth date + sequence``. The space of (region, birth year) pairs is
  cut into boxes whose sizes follow the wanted distribution of birthplace and age; a seeded affine
  permutation of the index picks a slot, the slot's box gives region and year, and its offset in the
  box gives day of year and sequence number. The ID number gives all of these back, hence the index.
* an address code is ``community code + sequence``; addresses come in blocks of neighbouring
  buildings, the block number's residue picks the community and its quotient the sequence.
* a credit code carries an organisation code that is a permutation of the index.

The data describe the district as of ``REFERENCE_DATE``, fixed so that a seed gives the same rows on
any day. Region codes of ID numbers are checked against the birth year with python-stdnum, because
a code is only valid for the years it existed (310115 from 1992 on).
"""

from __future__ import annotations

import csv
import random
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache, partial
from itertools import accumulate
from math import gcd
from operator import itemgetter
from os import PathLike
from typing import TypeVar

from stdnum import numdb
from stdnum.cn import ric, uscc

from tongban.core.idnumbers import ORGANISATION_ALPHABET, organisation_check
from tongban.registry.schemas import REGISTRIES

__all__ = ["MAX_ADDRESSES", "REFERENCE_DATE", "address", "legal_entity", "max_people", "person", "resident_id", "rows",
           "write_csv"]

REFERENCE_DATE = date(2025, 12, 31)
DIVISION_CODE = "310115"
DISTRICT = "上海市浦东新区"
MARKET_AUTHORITY = "浦东新区市场监督管理局"
BOUNDS = (121.45, 121.95, 30.85, 31.40)  # west, east, south, north: roughly Pudong
PROGRESS_EVERY = 10_000


# ---------------------------------------------------------------------------------------------- helpers

class _Weighted:
    """Items drawn by weight with one random() and a bisect: cheaper than Random.choices per call."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, weights: dict) -> None:
        self.items = tuple(weights)
        self.cumulative = tuple(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect_right(self.cumulative, rng.random() * self.total)]


def _weights(spec: str) -> _Weighted:
    """``"王7.1 李7 欧阳0.03"`` -> items with weights."""
    return _Weighted({m[1]: float(m[2]) for m in re.finditer(r"(\S+?)([\d.]+)(?=\s|$)", spec)})


_T = TypeVar("_T")


def _by_age(table: tuple[tuple[int, _T], ...], age: int) -> _T:
    """The distribution of the first bracket whose upper (exclusive) age is above ``age``."""
    for limit, weighted in table:
        if age < limit:
            return weighted
    raise AssertionError(age)


@lru_cache(maxsize=64)
def _permutation(seed: int, kind: str, modulus: int) -> tuple[int, int]:
    """(a, b) of the bijection ``i -> (a*i + b) % modulus``.

    ``a`` near modulus / golden ratio makes consecutive indexes land far apart and fill the range
    evenly (a Weyl sequence), so any prefix of the indexes follows the boxes' distribution closely.
    """
    a = int(modulus * 0.6180339887498949) or 1
    while gcd(a, modulus) != 1:
        a += 1
    return a, random.Random(f"{seed}:{kind}").randrange(modulus)


def _rng(seed: int, kind: str, index: int) -> random.Random:
    # A str seed goes through SHA-512, so it is the same in every process (unlike hash()).
    return random.Random(f"{seed}:{kind}:{index}")


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


_MOBILE_PREFIXES = tuple("130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
                         "180 181 182 183 185 186 187 188 189 191 193 195 198 199".split())


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    return f"021-{rng.choice(('58', '50', '68', '38', '20', '31'))}{rng.randrange(10**6):06d}"


# ---------------------------------------------------------------------------------------------- addresses

# Streets (街道) and towns (镇) of 浦东新区 with their statistical codes, a centre, how many residents'
# committees (居委) and villages (村委), roads, and stems for committee and village names.
_TOWNS = (
    ("310115004", "潍坊新村街道", 121.528, 31.228, 24, "潍坊路 张杨路 南泉北路 源深路 崂山路 浦电路 东方路", "潍坊 松山 泉东 南泉 福山 源竹 银山 峨山", ""),
    ("310115005", "陆家嘴街道", 121.510, 31.236, 30, "世纪大道 陆家嘴环路 银城中路 东昌路 浦东南路 崂山路 福山路 浦明路", "梅园 崂山 东昌 福山 乳山 市新 昌邑 东园", ""),
    ("310115007", "周家渡街道", 121.495, 31.178, 26, "上南路 昌里路 齐河路 云台路 耀华路 德州路", "云台 齐河 昌里 上南 德州 耀华 雪野", ""),
    ("310115008", "塘桥街道", 121.520, 31.212, 18, "浦建路 峨山路 蓝村路 浦东南路 东方路 南泉路", "塘桥 蓝村 峨山 金浦 贵龙 微山", ""),
    ("310115009", "上钢新村街道", 121.480, 31.180, 22, "济阳路 成山路 上南路 长清路 历城路", "上钢 济阳 长青 历城 钢城", ""),
    ("310115010", "南码头路街道", 121.505, 31.200, 20, "浦东南路 临沂路 南码头路 东三里桥路 浦三路", "临沂 南码头 东三里 港城 洪山", ""),
    ("310115011", "沪东新村街道", 121.568, 31.282, 20, "五莲路 莱阳路 长岛路 金桥路 崮山路", "沪东 五莲 莱阳 长岛 崮山", ""),
    ("310115012", "金杨新村街道", 121.560, 31.262, 28, "金杨路 罗山路 灵山路 博兴路 云山路", "金杨 灵山 罗山 云山 博兴 枣庄", ""),
    ("310115013", "洋泾街道", 121.545, 31.250, 30, "巨野路 羽山路 源深路 博山东路 浦东大道 栖山路 杨高中路", "洋泾 羽山 巨野 栖山 博山 泾东 陆家渡", ""),
    ("310115014", "浦兴路街道", 121.580, 31.270, 26, "浦兴路 金桥路 长岛路 东陆路 博兴路", "浦兴 东陆 金桥 荷泽 胶东", ""),
    ("310115015", "东明路街道", 121.510, 31.152, 28, "东明路 凌兆路 长清路 三林路 灵岩南路", "凌兆 东明 三林 长清 灵岩 金谊", ""),
    ("310115016", "花木街道", 121.560, 31.212, 28, "锦绣路 花木路 梅花路 芳甸路 白杨路 丁香路 樱花路 龙阳路 杨高中路", "联洋 牡丹 钦洋 由由 培花 大唐 东城 梅花", ""),
    ("310115103", "川沙新镇", 121.700, 31.190, 30, "川沙路 华夏东路 新德路 川环南路 妙境路 川黄路 城南路", "川沙 新德 城南 妙境 华夏 六团", "杜尹 六团 黄楼 陈行 连民 界龙 纯新 大洪"),
    ("310115104", "高桥镇", 121.575, 31.345, 24, "季景路 西街 港城路 东靖路 杨高北路", "高桥 季景 凌桥 东园 石家", "凌桥 西浜 新塘 屯粮"),
    ("310115105", "北蔡镇", 121.555, 31.180, 28, "莲园路 沪南路 杨高南路 锦绣路 陈春路 御桥路", "北蔡 莲园 御桥 陈春 绿川 鹏飞", "联勤 五星 同心"),
    ("310115110", "合庆镇", 121.740, 31.230, 10, "东川公路 合庆路 庆荣路 华东路", "合庆 庆荣 庆星", "勤奋 跃进 向东 营房 春雷"),
    ("310115114", "唐镇", 121.660, 31.215, 20, "唐安路 唐兴路 唐陆公路 创新中路 高科东路", "唐镇 唐安 新虹 阳光 唐城", "小湾 虹三 王港"),
    ("310115117", "曹路镇", 121.660, 31.280, 20, "金海路 民冬路 上川路 顾唐路 龚路", "曹路 民冬 上川 顾路 龚路", "星火 民义 海塘 新星"),
    ("310115120", "金桥镇", 121.605, 31.262, 16, "金桥路 金高路 新金桥路 张杨北路 金海路", "金桥 金高 新金桥 佳林", "金中"),
    ("310115121", "高行镇", 121.590, 31.300, 18, "东靖路 张杨北路 东陆路 高和路 森兰路", "高行 东靖 森兰 绿洲", "新高 南城"),
    ("310115123", "高东镇", 121.620, 31.330, 12, "巨峰路 五洲大道 杨高北路 光明路", "高东 光明 巨峰", "楼下 珊黄 徐路"),
    ("310115125", "张江镇", 121.600, 31.205, 32, "张江路 祖冲之路 郭守敬路 碧波路 科苑路 龙东大道 盛夏路 晨晖路 高科中路", "张江 孙桥 汤臣 玉兰 晨晖 中区", "环东 新丰 长元"),
    ("310115130", "三林镇", 121.510, 31.135, 40, "三林路 上南路 海阳西路 永泰路 杨思路 东明路 浦三路", "三林 杨思 永泰 懿德 海阳 林雪 世博", "临江 新春 懿德"),
    ("310115131", "惠南镇", 121.760, 31.050, 34, "城南路 拱极路 人民西路 沪南公路 观海路", "惠南 城南 园丁 东门 听潮", "远东 陆楼 海沈 桥北"),
    ("310115132", "周浦镇", 121.575, 31.115, 34, "周园路 年家浜路 沪南公路 周康路 康沈路", "周浦 周园 年家浜 界浜 瑞浦", "北庄 红桥 棋杆"),
    ("310115136", "康桥镇", 121.590, 31.145, 26, "康桥路 秀浦路 沪南公路 康沈路 横沔路", "康桥 秀浦 横沔 沔青", "沿南 人南 汤店"),
    ("310115137", "航头镇", 121.600, 31.040, 16, "航都路 沪南公路 鹤驰路 下沙路", "航头 鹤沙 下沙", "长达 王楼 福善"),
    ("310115139", "祝桥镇", 121.780, 31.150, 20, "川南奉公路 卫亭路 祝桥路 东海路", "祝桥 盐仓 东海", "星光 营前 新营"),
    ("310115145", "南汇新城镇", 121.920, 30.900, 22, "环湖西一路 水芸路 古棕路 申港大道 临港大道 沪城环路", "临港 滴水湖 海洋 宜浩 芦潮", "芦潮港 果园"),
)
_COMMITTEE_SUFFIXES = ("一村", "二村", "三村", "新村", "花园", "苑", "四村", "家园", "五村", "小区")


@dataclass(frozen=True)
class _Community:
    code: str
    name: str
    town_code: str
    town_name: str
    lanes: tuple[tuple[str, int], ...]  # three (road, lane number) pairs, distinct within the town
    street: tuple[str, int]  # a road and the first of 400 door numbers reserved on it
    longitude: float
    latitude: float


def _build_communities() -> tuple[_Community, ...]:
    # Fixed geography, the same for every data seed.
    rng = random.Random("tongban:synthetic:pudong-communities")
    west, east, south, north = BOUNDS
    communities = []
    for town_code, town_name, lon, lat, committees, road_names, stem_names, village_names in _TOWNS:
        roads, stems, villages = road_names.split(), stem_names.split(), village_names.split()
        next_door = {road: rng.randint(1, 60) for road in roads}

        def take(road: str, width: int, next_door: dict[str, int] = next_door) -> int:
            # One counter per road keeps lane and street-front numbers of the town apart.
            first = next_door[road]
            next_door[road] += width
            return first

        names = [f"{stems[j % len(stems)]}{_COMMITTEE_SUFFIXES[j // len(stems)]}居民委员会" for j in range(committees)]
        codes = [f"{town_code}{j + 1:03d}" for j in range(committees)]
        names += [f"{stem}村村民委员会" for stem in villages]
        codes += [f"{town_code}{201 + j}" for j in range(len(villages))]
        for j, (code, name) in enumerate(zip(codes, names)):
            lanes = tuple((road, take(road, rng.randint(8, 60))) for road in (roads[(3 * j + t) % len(roads)] for t in range(3)))
            street_road = roads[j % len(roads)]
            spread = 0.04 if "村民" in name else 0.018  # villages lie further out
            communities.append(_Community(
                code=code, name=name, town_code=town_code, town_name=town_name, lanes=lanes,
                street=(street_road, take(street_road, 400)),
                longitude=min(east - 0.005, max(west + 0.005, lon + rng.uniform(-spread, spread))),
                latitude=min(north - 0.005, max(south + 0.005, lat + rng.uniform(-spread, spread) * 0.8)),
            ))
    return tuple(communities)


_COMMUNITIES = _build_communities()
_BLOCK = 24  # addresses come in blocks of neighbouring buildings of one community
MAX_ADDRESSES = len(_COMMUNITIES) * (999_999 // _BLOCK) * _BLOCK  # the 6-digit sequence runs 000001..999999


def _address_place(seed: int, index: int) -> tuple[_Community, int, str, str, str]:
    """(community, sequence, road, house number, building) of address ``index``.

    Addresses come in blocks of ``_BLOCK``; the block number's residue (permuted by the seed) picks the
    community, its quotient and the place in the block make the sequence. So (community, sequence) --
    the address code -- gives the index back. Of every four addresses of a community three lie in its
    lanes (``1234弄12号``) and one on its street front (``88号``).
    """
    if not 0 <= index < MAX_ADDRESSES:
        raise ValueError(f"address index {index} outside 0..{MAX_ADDRESSES - 1}")
    count = len(_COMMUNITIES)
    block, within = divmod(index, _BLOCK)
    a, b = _permutation(seed, "address", count)
    community = _COMMUNITIES[(a * block + b) % count]
    sequence = block // count * _BLOCK + within
    rank, slot = divmod(sequence, 4)
    if slot < 3:
        road, lane = community.lanes[slot]
        return community, sequence + 1, road, f"{lane}弄", f"{rank + 1}号"
    road, first = community.street
    # Street-front numbers stay on one side of the road; text repeats only past ~800 addresses per community.
    return community, sequence + 1, road, f"{first + 2 * (rank % 200)}号", ""


def _full_address(seed: int, index: int) -> str:
    community, _sequence, road, house, building = _address_place(seed, index)
    return f"{DISTRICT}{community.town_name}{road}{house}{building}"


def address(seed: int, index: int) -> dict[str, str]:
    """Standard address ``index`` of the data set ``seed``."""
    community, sequence, road, house, building = _address_place(seed, index)
    rng = _rng(seed, "address", index)
    west, east, south, north = BOUNDS
    longitude = min(east, max(west, community.longitude + rng.uniform(-0.004, 0.004)))
    latitude = min(north, max(south, community.latitude + rng.uniform(-0.003, 0.003)))
    return {
        "address_code": f"{community.code}{sequence:06d}",
        "division_code": DIVISION_CODE,
        "town_code": community.town_code,
        "town_name": community.town_name,
        "community_code": community.code,
        "community_name": community.name,
        "road": road,
        "house_number": house,
        "building": building,
        "full_address": f"{DISTRICT}{community.town_name}{road}{house}{building}",
        "longitude": f"{longitude:.6f}",
        "latitude": f"{latitude:.6f}",
    }


# ---------------------------------------------------------------------------------------------- persons

# Birthplace of Shanghai household-registered people: every district and former county code of
# Shanghai (stdnum tells which existed in which year); the ones that are or were Pudong weigh more.
_SHANGHAI_REGIONS = {f"3101{n:02d}": 1.0 for n in (*range(1, 21), 51)}
_SHANGHAI_REGIONS |= {f"3102{n:02d}": 1.0 for n in (*range(1, 11), *range(21, 31))}
_SHANGHAI_REGIONS |= {"310115": 14.0, "310119": 3.0, "310204": 4.0, "310224": 4.0, "310205": 2.0, "310225": 2.0}

# Birthplace of the others: counties that send many people to Shanghai, with a weight per province.
_OTHER_REGIONS = (
    (26, "340121 340421 340621 341221 341222 341225 341226 341321 341322 341522 340822 340828 341623 341181"),
    (16, "320321 320322 320324 320723 320826 320923 321323 321324 320681 320682"),
    (13, "411522 411524 411525 411526 411623 411627 411723 411422 410422"),
    (8, "510121 510321 511321 511322 511623 511025 510722 513030"),
    (7, "330122 330127 331022 330326 330782 330424"),
    (7, "360121 360122 362321 360321 361121 360423"),
    (6, "371321 371322 371722 371728 370883"),
    (6, "421122 421124 421127 420921 421023"),
    (4, "430121 430321 430524 431021 430722"),
    (3, "350121 350583 350628"),
    (2, "500103 500235 500229"),
    (2, "230102 230521 230621"),
)

# Share of each 5-year age band (0-4, 5-9, ..., 100-104): household-registered Pudong is old, the
# others are mostly of working age.
_AGES_REGISTERED = (3.2, 4.2, 4.4, 3.8, 3.6, 4.6, 6.4, 7.6, 7.0, 6.4, 6.8, 7.4, 8.2, 8.4, 6.8, 4.4, 2.8, 1.6, 0.6, 0.15, 0.03)
_AGES_OTHERS = (3.0, 3.6, 3.2, 3.0, 8.5, 13.5, 14.5, 12.5, 10.0, 8.0, 7.0, 5.5, 3.5, 2.2, 1.2, 0.6, 0.3, 0.1, 0.03, 0.01, 0.0)
_GROUPS = ((True, 0.65, _AGES_REGISTERED, ((1.0, _SHANGHAI_REGIONS),)),
           (False, 0.35, _AGES_OTHERS, tuple((w, dict.fromkeys(codes.split(), 1.0)) for w, codes in _OTHER_REGIONS)))

_DAYS = 365  # day 0..364 of the birth year (31 December of leap years stays unused)
_SEQUENCES = 1000  # the 3-digit sequence; its parity is the gender
_PERSON_CAPACITY = 10_000_000  # about; the exact figure is MAX_PEOPLE


def _region_valid(code: str, year: int) -> bool:
    body = f"{code}{year}0101001"
    return ric.is_valid(body + ric.calc_check_digit(body + "0"))


@cache
def _person_boxes() -> tuple[tuple[tuple[str, int, bool], ...], tuple[int, ...], int]:
    """Boxes (region, 1 January ordinal, household-registered) with the first slot of each, and the total.

    A box's size is its share of the population (group x age x birthplace) times the capacity, at most
    the 365 000 ID numbers one region has in one year.
    """
    boxes, sizes = [], []
    for shanghai, share, ages, provinces in _GROUPS:
        by_year = {}
        for age in range(len(ages) * 5):
            year = REFERENCE_DATE.year - age
            regions = {}
            for province_weight, codes in provinces:
                valid = {code: weight for code, weight in codes.items() if _region_valid(code, year)}
                for code, weight in valid.items():
                    regions[code] = province_weight * weight / sum(valid.values())
            if regions and ages[age // 5]:
                by_year[year] = (ages[age // 5], regions)
        year_total = sum(weight for weight, _regions in by_year.values())
        for year, (year_weight, regions) in by_year.items():
            region_total = sum(regions.values())
            for code, weight in regions.items():
                size = round(_PERSON_CAPACITY * share * year_weight / year_total * weight / region_total)
                if size:
                    boxes.append((code, date(year, 1, 1).toordinal(), shanghai))
                    sizes.append(min(size, _DAYS * _SEQUENCES))
    starts = (0, *accumulate(sizes))
    return tuple(boxes), starts[:-1], starts[-1]


def _identity(seed: int, index: int) -> tuple[str, date, bool]:
    """(resident ID number, birth date, household-registered in Shanghai) of person ``index``."""
    boxes, starts, total = _person_boxes()
    if not 0 <= index < total:
        raise ValueError(f"person index {index} outside 0..{total - 1}")
    a, b = _permutation(seed, "person", total)
    slot = (a * index + b) % total
    box = bisect_right(starts, slot) - 1
    region, january_first, shanghai = boxes[box]
    rank, day = divmod(slot - starts[box], _DAYS)
    # Spread the sequence over 000-999 (a box rarely needs more than a few ranks): multiplying by a
    # number prime to 1000 is a bijection, so distinct ranks keep distinct sequences.
    sequence = (rank * 383 + box * 7919) % _SEQUENCES
    birth = date.fromordinal(january_first + day)
    body = f"{region}{birth.year}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0"), birth, shanghai


def resident_id(seed: int, index: int) -> str:
    """The ``id_number`` of ``person(seed, index)``, without generating the rest of the person."""
    return _identity(seed, index)[0]


def max_people() -> int:
    """How many distinct people one seed can have (about ten million)."""
    return _person_boxes()[2]


_SURNAMES = _weights(
    "王7.1 李7 张6.7 刘5.4 陈4.6 杨3.1 赵2.3 黄2.2 周2.1 吴2 徐2.2 孙1.5 胡1.3 朱1.8 高1.2 林1.2 何1.2 郭1.1 "
    "马1 罗0.9 梁0.9 宋0.8 郑0.8 谢0.8 韩0.7 唐0.7 冯0.7 于0.6 董0.6 萧0.3 程0.5 曹0.5 袁0.5 邓0.5 许0.5 "
    "傅0.5 沈0.9 曾0.5 彭0.5 吕0.5 苏0.4 卢0.4 蒋0.5 蔡0.4 贾0.4 丁0.4 魏0.4 薛0.4 叶0.5 阎0.2 余0.3 潘0.4 "
    "杜0.3 戴0.3 夏0.3 钟0.3 汪0.4 田0.3 任0.3 姜0.3 范0.3 方0.3 石0.3 姚0.4 谭0.2 廖0.2 邹0.2 熊0.2 金0.4 "
    "陆0.6 郝0.2 孔0.2 白0.2 崔0.2 康0.2 毛0.2 邱0.2 秦0.2 江0.2 史0.2 顾0.6 侯0.2 邵0.2 孟0.2 龙0.2 万0.2 "
    "段0.2 钱0.5 汤0.3 尹0.1 黎0.1 易0.1 常0.1 武0.1 乔0.1 贺0.1 赖0.1 龚0.2 文0.1 施0.3 倪0.2 "
    "欧阳0.03 司马0.01 上官0.01 诸葛0.01 司徒0.01 东方0.005 皇甫0.005"
)
# Characters of given names by generation (born before 1960, 1960-1989, 1990 on) and gender.
_GIVEN = {
    (0, True): "国建明华伟德福根宝荣林生金海平忠兴祥财志文军庆龙发良成",
    (0, False): "秀英兰珍芳凤玉梅桂琴萍美娣妹华菊云莲红丽敏静霞",
    (1, True): "伟强磊军勇杰涛明超华斌鹏辉峰俊浩刚健波毅东亮晓海新飞宇文",
    (1, False): "丽静敏燕艳娟霞婷雪琳玲颖慧佳洁萍丹蕾倩晶莉红芳娜",
    (2, True): "子轩浩宇博俊泽睿宸铭一航昊然嘉皓明杰晨逸辰奕天泓",
    (2, False): "梓涵欣怡雨萱诗佳思可一语若梦琪瑶悦彤馨晴妍依诺",
}
_SINGLE_GIVEN = (0.3, 0.3, 0.12)  # share of one-character given names by generation

_ETHNICITY = _weights("汉族985 回族3 满族2.5 蒙古族1.2 朝鲜族1 土家族1.5 壮族1.2 苗族1.2 彝族0.5 侗族0.5 "
                      "布依族0.5 藏族0.3 维吾尔族0.3 白族0.4 瑶族0.3 畲族0.3 黎族0.2 哈尼族0.1 傣族0.1")

_MARITAL = ((30, _weights("未婚60 已婚38 离婚2")), (40, _weights("未婚14 已婚78 离婚7 丧偶1")),
            (60, _weights("未婚4 已婚84 离婚8 丧偶4")), (75, _weights("未婚2 已婚78 离婚5 丧偶15")),
            (999, _weights("未婚1 已婚50 离婚3 丧偶46")))
_EDUCATION: tuple[tuple[int, _Weighted | None], ...] = ((6, None), (12, _weights("小学1")), (15, _weights("初中1")), (18, _weights("高中/中专9 初中1")),
              (23, _weights("高中/中专45 大学专科20 大学本科30 初中5")),
              (40, _weights("研究生10 大学本科38 大学专科22 高中/中专18 初中11 小学1")),
              (60, _weights("研究生4 大学本科20 大学专科18 高中/中专30 初中24 小学4")),
              (75, _weights("大学本科7 大学专科8 高中/中专30 初中38 小学14 文盲或半文盲3")),
              (999, _weights("大学本科5 大学专科4 高中/中专14 初中25 小学35 文盲或半文盲17")))
_EMPLOYMENT_YOUNG = _weights("在校学生60 在职28 灵活就业6 无业6")
_EMPLOYMENT_WORKING = _weights("在职78 灵活就业9 登记失业3 无业7 在校学生3")
_EMPLOYMENT_RETIRED = {True: _weights("退休92 在职4 无业4"), False: _weights("退休55 在职15 无业30")}
_INSURANCE = {
    "在职": _weights("正常缴费93 暂停缴费3 未参保4"), "灵活就业": _weights("正常缴费60 暂停缴费20 未参保20"),
    "登记失业": _weights("暂停缴费85 未参保15"), "无业": _weights("未参保60 暂停缴费40"),
    "退休": _weights("已领取养老金1"), "在校学生": _weights("未参保1"), "": _weights("未参保1"),
}

_HOMETOWN_TOWNS = tuple("城关 新集 高塘 李集 王庄 杨桥 河口 三河 长安 双桥 永兴 马店 大营 石桥".split())
_HOMETOWN_VILLAGES = tuple("张庄 李湾 刘楼 陈圩 王岗 新华 红星 前进 东风 胜利 黄营 周庄".split())
_HOMETOWN_ROADS = tuple("人民 解放 建设 中山 胜利 文化 长江 淮河 和平 新华".split())


@cache
def _place_name(code: str) -> str:
    """``安徽省阜阳市临泉县`` for 341221: the latest names stdnum knows."""
    def latest(info):
        names = [props.get("province") or props.get("county") for _part, props in info if props]
        return [name.split(",")[-1].rsplit("]", 1)[-1] for name in names if name]  # "[1983-2001]东市区,[2002-]瑶海区"

    province, county = latest(numdb.get("cn/loc").info(code))
    prefecture = latest(numdb.get("cn/loc").info(code[:4] + "00"))[-1]
    if prefecture in ("市辖区", "县") or prefecture == province:
        prefecture = ""
    return f"{province}{prefecture}{county}"


def _hometown_address(region: str, rng: random.Random) -> str:
    place = _place_name(region)
    if place.endswith("区"):
        return f"{place}{rng.choice(_HOMETOWN_ROADS)}路{rng.randint(1, 400)}号"
    return (f"{place}{rng.choice(_HOMETOWN_TOWNS)}镇{rng.choice(_HOMETOWN_VILLAGES)}村"
            f"{rng.randint(1, 12)}组{rng.randint(1, 99)}号")


def _death_rate(age: int) -> float:
    # About 0.5 % of the registry over all ages.
    return 0.0005 if age < 50 else 0.003 if age < 65 else 0.015 if age < 80 else 0.05 if age < 90 else 0.12


def person(seed: int, index: int, *, addresses: int) -> dict[str, str]:
    """Person ``index`` of the data set ``seed``, living at one of the first ``addresses`` addresses."""
    if addresses < 1:
        raise ValueError("addresses must be at least 1")
    number, birth, shanghai = _identity(seed, index)
    rng = _rng(seed, "person", index)
    male = int(number[16]) % 2 == 1
    age = _age(birth, REFERENCE_DATE)
    status = "户籍" if shanghai else ("居住证" if rng.random() < 25 / 35 else "来沪人员")

    death = ""
    if rng.random() < _death_rate(age):
        first = max(birth, REFERENCE_DATE - timedelta(days=3650))
        death = _random_day(rng, first, REFERENCE_DATE).isoformat()

    generation = 0 if birth.year < 1960 else 1 if birth.year < 1990 else 2
    characters = _GIVEN[generation, male]
    name = _SURNAMES.pick(rng) + rng.choice(characters)
    if rng.random() >= _SINGLE_GIVEN[generation]:
        name += rng.choice(characters)
    ethnicity = _ETHNICITY.pick(rng)

    marital = "未婚" if age < (22 if male else 20) else _by_age(_MARITAL, age).pick(rng)  # legal marriage age
    education_table = _by_age(_EDUCATION, age)
    education = education_table.pick(rng) if education_table else ""
    retirement = 60 if male else 55
    if age < 6:
        employment = ""
    elif age < 18:
        employment = "在校学生"
    elif age < 23:
        employment = _EMPLOYMENT_YOUNG.pick(rng)
    elif age < retirement:
        employment = _EMPLOYMENT_WORKING.pick(rng)
        if employment == "在校学生" and age >= 27:
            employment = "在职"
    else:
        employment = _EMPLOYMENT_RETIRED[shanghai].pick(rng)
    insurance = "终止" if death else _INSURANCE[employment].pick(rng)
    phone_share = 0 if age < 12 else 0.5 if age < 18 else 0.95 if age < 80 else 0.6
    phone = _mobile(rng) if not death and rng.random() < phone_share else ""

    # Addresses last, so that the draws above do not depend on how many addresses there are.
    home = rng.randrange(addresses)
    residence = _full_address(seed, home)
    if shanghai:
        registered = home if rng.random() < 0.75 else rng.randrange(addresses)
        household = f"{_full_address(seed, registered)}{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
    else:
        household = _hometown_address(number[:6], rng)

    return {
        "id_number": number,
        "name": name,
        "gender": "男" if male else "女",
        "birth_date": birth.isoformat(),
        "ethnicity": ethnicity,
        "household_address": household,
        "residence_address": residence,
        "residence_status": status,
        "phone": phone,
        "date_of_death": death,
        "marital_status": marital,
        "education": education,
        "employment_status": employment,
        "social_insurance_status": insurance,
    }


# ---------------------------------------------------------------------------------------------- legal entities

# Entity types by weight; the first two characters of the credit code (registering authority and kind)
# are 91 unless listed in _CREDIT_PREFIX.
_ENTITY_TYPES = _Weighted({
    "有限责任公司": 60, "个体工商户": 22, "分公司": 5, "外商投资企业": 3.5, "个人独资企业": 3, "合伙企业": 3,
    "股份有限公司": 1.5, "民办非企业单位": 1, "农民专业合作社": 0.4, "事业单位": 0.3, "社会团体": 0.3,
})
_CREDIT_PREFIX = {"个体工商户": "92", "农民专业合作社": "93", "事业单位": "12", "社会团体": "51", "民办非企业单位": "52"}
_AUTHORITY = {"1": "浦东新区事业单位登记管理局", "5": "浦东新区民政局", "9": MARKET_AUTHORITY}
_COMPANY_TYPES = ("有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "外商投资企业", "分公司")

_GENERAL = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
# (GB/T 4754-2017 industry code, word in the name, business scope)
_COMPANY_INDUSTRIES = _Weighted({
    ("I6513", "信息科技", "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务；计算机软硬件及辅助设备零售。"): 12,
    ("I6560", "网络科技", "一般项目：信息技术咨询服务；网络技术服务；软件开发；数据处理服务。"): 5,
    ("M7512", "生物科技", "一般项目：生物技术推广服务；技术服务、技术开发、技术咨询；化工产品销售（不含许可类化工产品）。"): 3,
    ("M7320", "智能科技", "一般项目：工程和技术研究和试验发展；人工智能应用软件开发；智能机器人的研发。"): 3,
    ("L7243", "企业管理咨询", "一般项目：企业管理咨询；信息咨询服务（不含许可类信息咨询服务）；市场营销策划；会议及展览服务。"): 11,
    ("L7212", "投资管理", "一般项目：投资管理；资产管理；实业投资。"): 3,
    ("L7259", "文化传播", "一般项目：广告设计、代理；广告制作；广告发布；组织文化艺术交流活动。"): 4,
    ("L7263", "人力资源", "许可项目：劳务派遣服务；职业中介活动。一般项目：人力资源服务（不含职业中介活动、劳务派遣服务）。"): 2,
    ("F5199", "贸易", "一般项目：日用百货、服装鞋帽、五金交电、电子产品、建筑材料的销售；货物进出口；技术进出口。"): 14,
    ("F5193", "电子商务", "一般项目：互联网销售（除销售需要许可的商品）；日用百货销售；食品销售（仅销售预包装食品）。"): 4,
    ("H6210", "餐饮管理", "许可项目：餐饮服务。一般项目：餐饮管理；食品销售（仅销售预包装食品）。"): 5,
    ("E5012", "装饰工程", "许可项目：住宅室内装饰装修；建设工程施工。一般项目：建筑装饰材料销售。"): 5,
    ("G5821", "物流", "一般项目：国际货物运输代理；国内货物运输代理；普通货物仓储服务（不含危险化学品等需许可审批的项目）；供应链管理服务。"): 5,
    ("K7020", "物业管理", "一般项目：物业管理；停车场服务；家政服务。"): 3,
    ("K7030", "房地产经纪", "一般项目：房地产经纪；房地产咨询。"): 2,
    ("C3973", "半导体", "一般项目：集成电路芯片设计及服务；集成电路制造；集成电路销售。"): 1.5,
    ("C3670", "汽车零部件", "一般项目：汽车零部件及配件制造；汽车零配件批发。"): 1,
    ("C2720", "医药", "许可项目：药品生产；药品批发。"): 0.8,
    ("C3581", "医疗器械", "许可项目：第二类医疗器械生产。一般项目：第一类医疗器械销售；第二类医疗器械销售。"): 1,
    ("P8394", "教育科技", "一般项目：教育咨询服务（不含涉许可审批的教育培训活动）；组织文化艺术交流活动。"): 2,
    ("O8010", "家政服务", "一般项目：家政服务；保洁服务；病人陪护服务。"): 1.5,
})
_SHOPS = _Weighted({
    ("F5213", "便利店", "许可项目：食品销售；烟草制品零售。一般项目：日用百货销售。"): 6,
    ("F5223", "水果店", "一般项目：食用农产品零售；新鲜水果零售。"): 3,
    ("F5222", "糕点店", "许可项目：食品销售。一般项目：食品销售（仅销售预包装食品）。"): 1,
    ("H6291", "小吃店", "许可项目：小型餐饮。"): 5,
    ("H6220", "面馆", "许可项目：餐饮服务。"): 4,
    ("O8040", "理发店", "一般项目：理发服务；美容服务。"): 3,
    ("O8111", "汽车维修部", "一般项目：机动车修理和维护；洗车服务。"): 1.5,
    ("F5281", "五金店", "一般项目：五金产品零售；电线、电缆经营。"): 2,
})
_SOCIETIES = ("软件", "餐饮", "物流", "装饰", "物业管理", "电子商务")
_BRAND = "瑞华恒鑫诚博达星辰智远汇盛泰嘉宏信德源聚创优凯昊卓思云峰锦澜浦江东海新翔顺安益佳明辉腾越启航宇晟朗睿弘和亿通禾汐"
_FOREIGN_BRANDS = ("安德森", "艾克斯", "贝尔特", "卡尔森", "米勒", "诺瓦", "奥利", "泰勒", "维斯塔", "索菲", "霍夫曼", "雅各")


def _capital_table(spec: str) -> _Weighted:
    """``"10:8 20:5"`` -> registered capital in 万元, as text, with weights."""
    return _Weighted({value: float(weight) for value, weight in (pair.split(":") for pair in spec.split())})


_CAPITAL = {
    "有限责任公司": _capital_table("10:8 20:5 30:6 50:12 100:22 200:12 300:8 500:10 800:2 1000:8 2000:3 3000:2 5000:2 10000:1"),
    "股份有限公司": _capital_table("1000:3 2000:3 3000:2 5000:3 10000:2 20000:1 50000:0.5"),
    "外商投资企业": _capital_table("100:3 200:3 500:3 1000:2 2000:1 5000:0.5"),
    "个人独资企业": _capital_table("1:2 5:2 10:4 50:3 100:2 500:0.5"),
    "合伙企业": _capital_table("10:2 50:2 100:4 500:3 1000:3 5000:1"),
    "个体工商户": _capital_table("1:3 2:2 3:2 5:4 10:3 20:1 50:0.5"),
    "农民专业合作社": _capital_table("10:2 50:3 100:3 200:1"),
    "事业单位": _capital_table("50:1 100:2 500:2 1000:1"),
    "社会团体": _capital_table("3:2 10:2 30:1"),
    "民办非企业单位": _capital_table("3:2 10:3 50:1"),
}
_FOREIGN_CURRENCY = _weights("美元50 港元20 欧元12 日元8 英镑3 人民币7")
_STATUS = _weights("存续72 在业14 注销9 吊销4 迁出1")
_TAX = _weights("正常95 非正常户3 未登记2")

_ORGANISATION_ALPHABET = ORGANISATION_ALPHABET


def _organisation_code(seed: int, index: int, new_style: bool) -> str:
    """Characters 9-17 of the credit code: an 8-character body that is a permutation of the index, and
    its GB 11714 check character. Since 2016 Shanghai gives new bodies ``MA`` + 6 characters; before,
    bodies were 8 digits. The two kinds never coincide, so the code stays unique."""
    if new_style:
        a, b = _permutation(seed, "organisation-new", 31**6)
        n, chars = (a * index + b) % 31**6, []
        for _ in range(6):
            n, digit = divmod(n, 31)
            chars.append(_ORGANISATION_ALPHABET[digit])
        body = "MA" + "".join(reversed(chars))
    else:
        a, b = _permutation(seed, "organisation-old", 10**8)
        body = f"{(a * index + b) % 10**8:08d}"
    return body + organisation_check(body)


def _representative(seed: int, rng: random.Random, people: int, addresses: int) -> dict[str, str]:
    """A living person aged 20 or more among the first ``people``; deterministic because ``rng`` is."""
    for _ in range(200):
        candidate = person(seed, rng.randrange(people), addresses=addresses)
        if not candidate["date_of_death"] and _age(date.fromisoformat(candidate["birth_date"]), REFERENCE_DATE) >= 20:
            return candidate
    raise ValueError(f"no living adult found among the first {people} people")


def _established(rng: random.Random, earliest: date, growth: float) -> date:
    """A founding date from ``earliest`` on, more often recent: the register keeps growing."""
    years = range(earliest.year, REFERENCE_DATE.year + 1)
    year = _Weighted({y: 1 + growth * (y - 1995) for y in years}).pick(rng)
    return _random_day(rng, max(earliest, date(year, 1, 1)), date(year, 12, 31))


def legal_entity(seed: int, index: int, *, people: int, addresses: int) -> dict[str, str]:
    """Legal entity ``index``; its legal representative is ``person(seed, j)`` for some ``j < people``."""
    if not 0 <= index < 10**8:
        raise ValueError(f"legal entity index {index} outside 0..{10**8 - 1}")
    if people < 1:
        raise ValueError("people must be at least 1")
    rng = _rng(seed, "entity", index)
    kind = _ENTITY_TYPES.pick(rng)
    prefix = _CREDIT_PREFIX.get(kind, "91")
    company = kind in _COMPANY_TYPES

    representative = _representative(seed, rng, people, addresses)
    adult = _add_years(date.fromisoformat(representative["birth_date"]), 18)
    established = _established(rng, max(date(1995, 1, 1), adult), 0.3 if kind == "个体工商户" else 0.12)
    approved = established if rng.random() < 0.45 else _random_day(rng, established, REFERENCE_DATE)
    term_end = ""
    if company and rng.random() < 0.5:
        term_end = (_add_years(established, rng.choice((10, 20, 30, 50))) - timedelta(days=1)).isoformat()

    brand = "".join(rng.sample(_BRAND, 2))
    if company:
        industry, word, scope = _COMPANY_INDUSTRIES.pick(rng)
        name = {
            "有限责任公司": f"上海{brand}{word}有限公司",
            "股份有限公司": f"上海{brand}{word}股份有限公司",
            "个人独资企业": f"上海{brand}{word}中心",
            "合伙企业": f"上海{brand}{word}合伙企业（有限合伙）",
            "外商投资企业": f"{rng.choice(_FOREIGN_BRANDS)}（上海）{word}有限公司",
            "分公司": f"上海{brand}{word}有限公司浦东分公司",
        }[kind]
    elif kind == "个体工商户":
        industry, word, scope = _SHOPS.pick(rng)
        name = f"浦东新区{brand}{word}（个体工商户）"
    elif kind == "农民专业合作社":
        industry, scope = "A0141", "组织收购、销售成员种植的蔬菜、水果；引进新技术、新品种，开展技术培训、技术交流和咨询服务。"
        name = f"上海浦东{brand}蔬果专业合作社"
    elif kind == "事业单位":
        town = rng.choice(_TOWNS)[1]
        industry, scope = "Q8421", "为社区居民提供基本医疗、预防保健、健康教育等基本公共卫生服务。"
        name = f"上海市浦东新区{town}社区卫生服务中心"
    elif kind == "社会团体":
        industry, scope = "S9522", "开展行业自律、业务培训、交流合作，维护会员合法权益。"
        name = f"上海市浦东新区{rng.choice(_SOCIETIES)}行业协会"
    else:  # 民办非企业单位
        industry, scope = "P8393", "开展艺术类培训（不含学科类培训）及相关文化交流活动。"
        name = f"上海浦东新区{brand}艺术培训中心"
    if scope.startswith("一般项目") or "。一般项目" in scope:
        scope += _GENERAL

    status = _STATUS.pick(rng)
    if kind == "分公司":
        capital = ""  # a branch has no capital of its own
    else:
        capital = _CAPITAL[kind].pick(rng)
    currency = _FOREIGN_CURRENCY.pick(rng) if kind == "外商投资企业" else "人民币"
    if kind == "个体工商户":
        employees = min(8, int(rng.lognormvariate(0.7, 0.8)))
    elif kind in ("股份有限公司", "外商投资企业"):
        employees = min(2000, int(rng.lognormvariate(3.8, 1.2)))
    else:
        employees = min(2000, int(rng.lognormvariate(1.7, 1.3)))
    if status in ("注销", "吊销", "迁出"):
        employees = 0

    if status in ("注销", "迁出"):
        tax = "注销"
    elif status == "吊销":
        tax = "非正常户" if rng.random() < 0.7 else "注销"
    else:
        tax = _TAX.pick(rng)
    big = (capital and float(capital) >= 500) or employees >= 50
    general = kind != "个体工商户" and rng.random() < (0.7 if big else 0.12)
    staffed = employees > 0 or status in ("注销", "吊销", "迁出")
    social = staffed and rng.random() < (0.4 if kind == "个体工商户" else 0.95)
    fund = staffed and rng.random() < (0.1 if kind == "个体工商户" else 0.8)

    number = f"{prefix}{DIVISION_CODE}" + _organisation_code(seed, index, prefix[0] == "9" and established.year >= 2016)
    return {
        "credit_code": number + uscc.calc_check_digit(number),
        "name": name,
        "entity_type": kind,
        "legal_representative_id": representative["id_number"],
        "legal_representative_name": representative["name"],
        "registered_capital": capital,
        "currency": currency if capital else "",
        "established_on": established.isoformat(),
        "approved_on": approved.isoformat(),
        "business_term_end": term_end,
        "registered_address": _full_address(seed, rng.randrange(addresses)),
        "business_scope": scope,
        "industry_code": industry,
        "registration_authority": _AUTHORITY[prefix[0]],
        "status": status,
        "phone": _mobile(rng) if kind == "个体工商户" or rng.random() < 0.3 else _landline(rng),
        "tax_registration_status": tax,
        "taxpayer_type": "一般纳税人" if general else "小规模纳税人",
        "social_insurance_registered": "已登记" if social else "未登记",
        "housing_fund_registered": "已登记" if fund else "未登记",
        "employees": str(employees),
    }


# ---------------------------------------------------------------------------------------------- output

def rows(registry_name: str, seed: int, count: int, *, people: int, addresses: int) -> Iterator[dict[str, str]]:
    """Records 0..count-1 of one registry, one at a time."""
    makers = {
        "persons": partial(person, seed, addresses=addresses),
        "legal_entities": partial(legal_entity, seed, people=people, addresses=addresses),
        "addresses": partial(address, seed),
    }
    if registry_name not in makers:
        raise ValueError(f"unknown registry {registry_name!r}; expected one of {sorted(makers)}")
    return map(makers[registry_name], range(count))


def write_csv(path: str | PathLike, registry_name: str, seed: int, count: int, *, people: int, addresses: int,
              progress: Callable[[int], object] | None = None) -> int:
    """Write ``count`` records as UTF-8 CSV with the field names as header; return how many were written."""
    names = [f.name for f in REGISTRIES[registry_name].fields]
    cells = itemgetter(*names)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in rows(registry_name, seed, count, people=people, addresses=addresses):
            writer.writerow(cells(row))
            written += 1
            if progress is not None and written % PROGRESS_EVERY == 0:
                progress(written)
    if progress is not None and written % PROGRESS_EVERY:
        progress(written)
    return written
