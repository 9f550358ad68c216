"""Service-item search: colloquial phrasing, typos, partial words, filters, explanations, limits.

The queries here are this module's own development set; no database is needed.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time

import pytest

from tongban.demo.district import implementation_prefixes
from tongban.demo.filler_items import generated_items
from tongban.items import content, search
from tongban.items.search import QueryError, SearchIndex, Synonym

DEPARTMENTS = {
    "PD-GA": "区公安分局", "PD-RS": "区人力资源和社会保障局", "PD-MZ": "区民政局", "PD-SCJG": "区市场监督管理局",
    "PD-SW": "区税务局", "PD-GHZY": "区规划和自然资源局", "PD-STHJ": "区生态环境局", "PD-JSJT": "区建设和交通委员会",
    "PD-CGZF": "区城市管理行政执法局", "PD-WJW": "区卫生健康委员会", "PD-YB": "区医疗保障局",
    "PD-GJJ": "住房公积金管理中心浦东分中心", "PD-ZJ": "区住房保障和房屋管理局", "PD-FGW": "区发展和改革委员会",
    "PD-JY": "区教育局",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def items():
    return content.load()["items"]


@pytest.fixture(scope="module")
def index(items):
    return SearchIndex(items, search.default_synonyms(), DEPARTMENTS)


def code_of(items, fragment: str) -> str:
    """The item whose name contains ``fragment`` (the shortest such name, if several do)."""
    matches = sorted((len(item["name"]), item["basic_code"]) for item in items if fragment in item["name"])
    assert matches, f"no item named like {fragment!r}"
    return matches[0][1]


def top_codes(index, query: str, n: int = 3, **filters) -> list[str]:
    return [hit.code for hit in index.search(query, limit=n, **filters)]


# --- queries ------------------------------------------------------------------------------------

COLLOQUIAL = [
    ("打算在小区门口开家早餐铺", "食品经营许可"),
    ("我想开个奶茶铺子", "食品经营许可"),
    ("我们公司经营不下去了要关掉", "企业注销登记"),
    ("老婆刚生了二宝要去登记吗", "生育登记"),
    ("钱包连同身份证一起弄丢了", "居民身份证"),
    ("小区门口要刨开马路铺水管", "道路挖掘"),
    ("被老板辞退了有没有补助可以领", "失业保险金"),
    ("卖掉老房子要办过户", "不动产转移登记"),
    ("儿子九月份读一年级怎么报名", "小学新生入学"),
    ("家里收入太低日子过不下去", "最低生活保障"),
    ("回老家长住医保怎么结算", "异地就医备案"),
    ("工地半夜要连续打混凝土", "夜间建筑施工"),
]

TYPOS = [
    ("身份正掉了", "居民身份证"),
    ("营业只照怎么办", "企业设立登记"),
    ("结昏登记", "结婚登记"),
    ("公基金提取", "住房公积金提取"),
    ("最低生活保帐", "最低生活保障"),
    ("社会报障卡", "社会保障卡"),
]

PARTIAL = [
    ("食品经", "食品经营许可"),
    ("公积金提", "住房公积金提取"),
    ("异地就", "异地就医备案"),
    ("教师资", "教师资格认定"),
    ("建筑垃", "城市建筑垃圾处置"),
]

# A wider development set: at least 90% must have the item in the top three.
DEV_SET = COLLOQUIAL + TYPOS + PARTIAL + [
    ("开个烧烤摊", "食品经营许可"), ("自己做点小买卖", "个体工商户设立登记"), ("注册一家科技公司", "企业设立登记"),
    ("公司章被偷了", "公章刻制备案"), ("新公司第一次去税务局", "新办纳税人"), ("公司要开增值税票", "发票领用"),
    ("单位第一次给员工交五险", "单位参加社会保险登记"), ("帮职工开住房公积金户", "单位住房公积金缴存登记"),
    ("开一家足浴店", "公共场所卫生许可"), ("外地人租了房子要登记吗", "来沪人员居住登记"),
    ("孩子上学需要居住证", "上海市居住证办理"), ("医保卡坏了换新", "社会保障卡申领"),
    ("明年到岁数办退休", "职工基本养老金申领"), ("无儿无女的老人谁来养", "特困人员救助供养"),
    ("和外国女朋友登记结婚", "内地居民结婚登记"), ("开个老年护理院", "养老机构备案"),
    ("住不起房子能申请补贴吗", "廉租住房申请"), ("想买共有产权的房子", "共有产权保障住房申请"),
    ("开一家口腔诊所", "医疗机构执业登记"), ("刚出生的宝宝交医保", "城乡居民基本医疗保险"),
    ("急诊自己垫的钱能报吗", "医疗费用零星报销"), ("教资考过了下一步", "教师资格认定"),
    ("厂房改造要备案吗", "企业投资项目备案"), ("拿了地以后规划许可", "建设用地规划许可证"),
    ("开挖前找管线单位交底", "地下管线保护监护交底"), ("工地围挡降尘承诺", "掘路工程文明施工承诺"),
    ("新建厂房要做环评吗", "建设项目环境影响报告表"), ("楼盘开工前办证", "建筑工程施工许可证"),
]


@pytest.mark.parametrize("query,fragment", COLLOQUIAL)
def test_colloquial_phrasing_finds_the_item(index, items, query, fragment):
    assert code_of(items, fragment) in top_codes(index, query)


@pytest.mark.parametrize("query,fragment", TYPOS)
def test_homophone_and_one_character_typos_are_tolerated(index, items, query, fragment):
    assert code_of(items, fragment) in top_codes(index, query)


@pytest.mark.parametrize("query,fragment", PARTIAL)
def test_partial_words_match(index, items, query, fragment):
    assert code_of(items, fragment) in top_codes(index, query)


def test_the_development_set_reaches_ninety_percent_in_the_top_three(index, items):
    misses = [query for query, fragment in DEV_SET if code_of(items, fragment) not in top_codes(index, query)]
    assert len(misses) <= len(DEV_SET) // 10, misses


def test_pinyin_typed_in_latin_letters_is_understood(index, items):
    hits = index.search("juzhuzheng")
    assert hits[0].code == code_of(items, "居住证办理")
    assert any("拼音" in reason for reason in hits[0].why)


# --- explanations -------------------------------------------------------------------------------

def test_every_hit_explains_itself_in_chinese(index):
    for query in ("开饭馆", "身份证掉了", "公积金", "挖路"):
        for hit in index.search(query):
            assert 1 <= len(hit.why) <= 4
            assert all(CJK.search(reason) for reason in hit.why)


def test_the_explanation_names_the_synonym_and_the_field(index):
    why = index.search("开饭馆")[0].why
    assert any("「开饭馆」是「" in reason and "常用说法" in reason for reason in why)
    assert any(reason.startswith(("名称含", "关键词", "常见问法")) for reason in why)


def test_the_explanation_names_the_typo_correction(index):
    why = index.search("身份正")[0].why
    assert "「身份正」按「身份证」查找（可能是错别字）" in why


def test_correct_words_are_not_second_guessed(index):
    for query in ("公司注销", "结婚登记", "社保卡补领"):
        assert not any("错别字" in reason for hit in index.search(query) for reason in hit.why)


# --- results, filters, ordering -----------------------------------------------------------------

def test_hits_carry_the_item_and_department_and_come_best_first(index, items):
    hits = index.search("公积金", limit=5)
    assert 1 <= len(hits) <= 5
    assert all(hit.score > 0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    by_code = {item["basic_code"]: item for item in items}
    for hit in hits:
        assert hit.name == by_code[hit.code]["name"]
        assert hit.department == by_code[hit.code]["department"]
        assert hit.department_name == DEPARTMENTS[hit.department]


def test_service_object_filter(index, items):
    objects = {item["basic_code"]: item["service_objects"] for item in items}
    companies = index.search("登记", service_object="法人", limit=50)
    people = index.search("登记", service_object="自然人", limit=50)
    assert companies and people
    assert all("法人" in objects[hit.code] for hit in companies)
    assert all("自然人" in objects[hit.code] for hit in people)
    assert code_of(items, "企业注销登记") in {hit.code for hit in companies}
    assert code_of(items, "企业注销登记") not in {hit.code for hit in people}


def test_department_filter(index):
    hits = index.search("证", department="PD-GA", limit=50) + index.search("身份证 居住证", department="PD-GA")
    assert hits and all(hit.department == "PD-GA" for hit in hits)
    assert index.search("身份证", department="PD-JY", service_object="法人") == []
    assert index.search("身份证", department="PD-NOWHERE") == []


def test_ordering_is_deterministic_and_ties_go_by_code(index, items):
    assert index.search("开公司要什么材料") == index.search("开公司要什么材料")
    twin = copy.deepcopy(items[0])
    first, second = copy.deepcopy(twin), copy.deepcopy(twin)
    first["basic_code"], second["basic_code"] = "000000000002", "000000000001"
    small = SearchIndex([first, second], [], DEPARTMENTS)
    hits = small.search(twin["name"])
    assert [hit.code for hit in hits] == ["000000000001", "000000000002"]
    assert hits[0].score == hits[1].score


def test_a_new_synonym_changes_the_results(index, items):
    shops = code_of(items, "个体工商户设立登记")
    assert shops not in top_codes(index, "谋个营生", n=1)
    extra = SearchIndex(items, search.default_synonyms() + [Synonym("谋个营生", ("个体工商户",))], DEPARTMENTS)
    hits = extra.search("谋个营生")
    assert hits[0].code == shops
    assert "「谋个营生」是「个体工商户」的常用说法" in hits[0].why


def test_only_function_words_find_nothing(index):
    assert index.search("请问我要怎么办理呢") == []


def test_the_index_leaves_the_items_alone(items):
    before = copy.deepcopy(items[:5])
    SearchIndex(items[:5], search.default_synonyms(), DEPARTMENTS).search("开公司")
    assert items[:5] == before


# --- bad queries --------------------------------------------------------------------------------

def test_normalise_query_folds_width_case_and_spaces():
    assert search.normalise_query("  ＡＢＣ　身份证\t\n丢了  ") == "abc 身份证 丢了"


@pytest.mark.parametrize("query", ["", "   ", "\u3000\t\n", "？！。，", "……——", "!!!"])
def test_empty_queries_are_refused(index, query):
    with pytest.raises(QueryError) as error:
        index.search(query)
    assert error.value.kind == "query-empty"
    assert error.value.message == "请输入要查找的事项或需求"


def test_too_long_queries_are_refused_quickly(index):
    assert search.normalise_query("证" * search.MAX_QUERY_LENGTH)
    started = time.perf_counter()
    for query in ("证" * 101, "营业执照" * 500, "x" * 2000, "证" * 1_000_000):
        with pytest.raises(QueryError) as error:
            index.search(query)
        assert error.value.kind == "query-too-long"
        assert error.value.message == "查询内容过长（最多 100 个字）"
    assert time.perf_counter() - started < 0.5


# --- data files, filler items, speed ------------------------------------------------------------

def test_the_synonym_dictionary_is_large_and_well_formed():
    document = json.loads(search.SYNONYMS_PATH.read_text(encoding="utf-8"))
    assert document["format"] == "tongban-search-synonyms" and document["version"] == 1
    synonyms = search.default_synonyms()
    assert len(synonyms) >= 150
    assert len({s.phrase for s in synonyms}) == len(synonyms)
    assert all(s.phrase and s.expansions for s in synonyms)


def test_a_synonym_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "version": 1, "synonyms": []}), encoding="utf-8")
    with pytest.raises(ValueError):
        search.load_synonyms(path)


def test_the_government_dictionary_is_in_jieba_format():
    lines = search.DICTIONARY_PATH.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 300
    for line in lines:
        word, freq, pos = line.split(" ")
        assert word and int(freq) > 0 and pos.isalpha()


def test_loading_jieba_prints_nothing():
    script = "from tongban.items import search; search._base_tokenizer()"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "Building prefix dict" not in done.stderr


def test_generated_items_are_valid_and_stable():
    generated = generated_items(300)
    assert len(generated) == 300
    assert all(item["basic_code"].startswith("9") for item in generated)
    assert len({item["basic_code"] for item in generated}) == 300
    assert content.validate({"format": content.FORMAT, "version": content.VERSION, "items": generated}, implementation_prefixes()) == []
    assert generated_items(300) == generated
    assert set(generated[0]) == set(content.ITEM_FIELDS)


def test_a_bigger_index_still_finds_the_demo_items_quickly(items):
    big = SearchIndex(items + generated_items(600), search.default_synonyms(), DEPARTMENTS)
    started = time.perf_counter()
    for query, fragment in COLLOQUIAL:
        assert code_of(items, fragment) in top_codes(big, query)
    assert (time.perf_counter() - started) / len(COLLOQUIAL) < 0.05
