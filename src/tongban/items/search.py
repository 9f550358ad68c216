"""Search over service items (政务服务事项) the way citizens and companies ask for them.

People type "开饭店要办什么证", "身份证丢了怎么办" or "营业执找", not the item names. The index is pure
Python over dicts, built once from the item documents, and answers a query in a few milliseconds:

* **Segmentation** — a private ``jieba.Tokenizer`` per index, copied from a per-process base that has
  the government dictionary (``search_dictionary.txt``) loaded once; every item name, keyword and
  colloquial phrase and every synonym phrase is added to the copy, so an index never changes how
  another one cuts text.
* **Ranking** — BM25F over weighted fields (name highest; keywords and colloquial phrasings high;
  results, situations, materials, conditions, department lower) in three channels: words (jieba
  tokens plus the dictionary words inside long tokens), character bigrams (partial and unknown words
  still match) and single characters (weak). The query is split into parts (a word, a synonym
  phrase, a corrected stretch); each reading of a part (as typed, each synonym expansion, each
  correction) is scored on its own and the best one counts. A coverage factor prefers items that
  match every telling part of the query (weighted by idf, so "申请" hardly counts), and the leaders
  are reranked by how much of their name the query accounts for (its places and "办理" left out).
  A variant of an item (its name says only 补领, 变更, 注销 ...) is divided by the largest such
  bonus unless the query asks for the variant, so "营业执照" finds the registration that gives one
  before its reissue.
* **Synonyms** — the staff-managed dictionary (``search_synonyms.json``) maps everyday phrases onto
  government vocabulary. Phrases are found anywhere in the query, longest first, without overlap;
  also with filler words left out ("开了个饭店"), split by modifiers ("开一家科技公司" → "开公司"), and
  across kinds of shop ("烧烤店" covers "烧烤摊"); one-character phrases ("刻", "挖") only as words.
* **Typos** — stretches of the query that look wrong (single characters, words no item uses) are
  compared by toneless pinyin (exact, then with fuzzy initials/finals) with the vocabulary of the
  index; longer ones are also completed as unfinished words ("公积金提") or matched with one
  character missing or wrong. Pinyin typed in latin letters ("juzhuzheng") is read too.
* **Explanations** — each hit says in Chinese which query term matched which field, and which
  synonym or correction was applied.

Ordering is deterministic: equal scores are broken by item code.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongban.core.segmentation import jieba_tokenizer

__all__ = [
    "MAX_QUERY_LENGTH", "BundleDocument", "QueryError", "SearchHit", "SearchIndex", "Synonym", "default_synonyms",
    "load_synonyms", "normalise_query",
]

DICTIONARY_PATH = Path(__file__).with_name("search_dictionary.txt")
SYNONYMS_PATH = Path(__file__).with_name("search_synonyms.json")
SYNONYMS_FORMAT = "tongban-search-synonyms"
SYNONYMS_VERSION = 1

MAX_QUERY_LENGTH = 100  # characters after normalisation
_RAW_LIMIT = 20_000  # longer raw input is rejected before any work is done on it


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Synonym:
    """A colloquial phrase and the government vocabulary it stands for (managed by staff)."""

    phrase: str
    expansions: tuple[str, ...]


@dataclass(frozen=True)
class SearchHit:
    code: str
    name: str
    department: str
    department_name: str
    score: float
    why: tuple[str, ...]
    kind: str = "item"  # "item" or "bundle" (一件事: several items applied for with one form)


@dataclass(frozen=True)
class BundleDocument:
    """A bundle (一件事) as search sees it: what it is called, what it does, who applies, and the
    items it holds (their names, themes and departments make it findable)."""

    code: str
    name: str
    summary: str
    applicant_type: str
    items: tuple[str, ...]


class QueryError(ValueError):
    """A query that cannot be searched; ``kind`` is stable, ``message`` is for the user."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_EMPTY_MESSAGE = "请输入要查找的事项或需求"
_TOO_LONG_MESSAGE = f"查询内容过长（最多 {MAX_QUERY_LENGTH} 个字）"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_query(query: str) -> str:
    """NFKC, control characters as spaces, spaces collapsed, trimmed, latin letters lower-cased.

    Raises ``QueryError`` ("query-empty") when nothing searchable is left — only spaces, punctuation
    or symbols — and ("query-too-long") beyond ``MAX_QUERY_LENGTH`` characters.
    """
    if not isinstance(query, str):
        raise QueryError("query-empty", _EMPTY_MESSAGE)
    if len(query) > _RAW_LIMIT:
        raise QueryError("query-too-long", _TOO_LONG_MESSAGE)
    text = unicodedata.normalize("NFKC", query)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    text = " ".join(text.split()).translate(_ASCII_LOWER)
    if not any(ch.isalnum() for ch in text):
        raise QueryError("query-empty", _EMPTY_MESSAGE)
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError("query-too-long", _TOO_LONG_MESSAGE)
    return text


# --------------------------------------------------------------------------------------------
# Synonyms
# --------------------------------------------------------------------------------------------

def load_synonyms(path: str | Path) -> list[Synonym]:
    """Read a synonym document (format ``tongban-search-synonyms``, version 1)."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or document.get("format") != SYNONYMS_FORMAT \
            or document.get("version") != SYNONYMS_VERSION:
        raise ValueError(f"{path}: not a {SYNONYMS_FORMAT} version {SYNONYMS_VERSION} document")
    synonyms = []
    for entry in document.get("synonyms", []):
        phrase = str(entry.get("phrase", "")).strip()
        expansions = tuple(str(e).strip() for e in entry.get("expansions", []) if str(e).strip())
        if phrase and expansions:
            synonyms.append(Synonym(phrase, expansions))
    return synonyms


def default_synonyms() -> list[Synonym]:
    """The product's managed synonym dictionary (``search_synonyms.json``)."""
    return load_synonyms(SYNONYMS_PATH)


# --------------------------------------------------------------------------------------------
# Segmentation and pinyin (process-wide, lazily initialised)
# --------------------------------------------------------------------------------------------

# Function words and question fillers: they carry no meaning for finding an item.
STOP_WORDS = frozenset("""
怎么 怎么办 怎么样 怎样 咋 咋办 咋弄 如何 办理 办 要 想要 想 需要 需 什么 什么样 啥 干啥 我
我们 我家 我的 你 你们 您 他 她 他们 自己 了 吗 吧 呢 啊 呀 么 嘛 哦 的 地 得 着 过 哪里
哪儿 哪 哪个 哪些 在哪 在哪里 在哪儿 去 来 可以 可 能 能不能 能否 可不可以 是否 是不是 有没有
是 有 没 没有 不 不用 个 一个 一家 一下 下 上 请问 咨询 问 问一下 还 还要 还是 和 与 及
以及 或 或者 应该 应当 必须 一定 会 不会 就 都 也 又 再 才 先 然后 之后 以后 已经 现在 刚
刚刚 马上 把 被 给 让 跟 对 从 到 在 为 为了 因为 所以 如果 时候 多少 多久 几天 几 谁
为什么 手续 流程 步骤 材料 资料 东西 带 准备 这个 那个 这 那 这些 那些 一些 弄 搞 做 办事
相关 问题 请 帮 帮忙 知道 告诉 等 等等 吗 呗 嗯 啦 哈 上海 上海市 浦东 浦东新区 新区 本市
本区 市里 区里 当地 这边 政府 部门 单位里
""".split())

# Kinds of shop: "烧烤店" also stands for "烧烤摊", "烧烤铺" ... ("房"/"屋" only as the variant:
# "面包房" is a shop, "二手房" is not).
_SHOP_SUFFIXES = "店铺馆摊档坊厅吧"
_SHOP_VARIANTS = _SHOP_SUFFIXES + "房屋"
_MODALS = frozenset("要想能去来可会得需该在给把被让也都还就再才先")  # jieba glues these to verbs: "要开"
# Words that may sit inside a colloquial phrase without changing it ("开了个饭店" = "开饭店").
_FILLERS = frozenset("了 个 的 着 过 一个 一家 一间 一下 一点 点 啦 呢 啊 吧 呀 嘛 "
                     "很 太 挺 蛮 比较 非常 特别 有点".split())

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_ONLY = re.compile(f"^[{_CJK}]+$")
_ALNUM_RUN = re.compile(r"[a-z0-9]+")
_ADDABLE = re.compile(f"[{_CJK}a-zA-Z0-9]+")

_lock = threading.Lock()
_base: Any = None  # jieba.Tokenizer with the government dictionary, shared read-only
_dictionary_words: tuple[str, ...] = ()
_pinyin_cache: dict[str, str] = {}
_pinyin_key_cache: dict[str, frozenset[str]] = {}


def _base_tokenizer():
    """The process-wide tokenizer with jieba's and the government dictionary (built once, ~1 s)."""
    global _base, _dictionary_words
    if _base is None:
        with _lock:
            if _base is None:
                tokenizer = jieba_tokenizer(DICTIONARY_PATH)
                with open(DICTIONARY_PATH, encoding="utf-8") as handle:
                    _dictionary_words = tuple(line.split()[0] for line in handle if line.strip())
                _base = tokenizer
    return _base


def _private_tokenizer():
    """A copy of the base tokenizer that one index may add words to (~10 ms)."""
    import jieba

    base = _base_tokenizer()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.user_word_tag_tab = dict(base.user_word_tag_tab)
    tokenizer.initialized = True
    return tokenizer


def _char_pinyin(ch: str) -> str:
    syllable = _pinyin_cache.get(ch)
    if syllable is None:
        from pypinyin import lazy_pinyin

        syllable = lazy_pinyin(ch)[0]
        _pinyin_cache[ch] = syllable
    return syllable


def _fuzzy_syllable(syllable: str) -> str:
    """Accent-tolerant form: zh/ch/sh → z/c/s, l → n, -ng → -n."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    elif syllable[:1] == "l":
        syllable = "n" + syllable[1:]
    if syllable.endswith("ng"):
        syllable = syllable[:-1]
    return syllable


def _pinyin_keys(word: str) -> frozenset[str]:
    """Pinyin of a vocabulary word: as a phrase (polyphones resolved) and character by character.
    Kept for the process: an index rebuilt after a publication asks again for nearly every word."""
    keys = _pinyin_key_cache.get(word)
    if keys is None:
        from pypinyin import lazy_pinyin

        keys = frozenset((" ".join(lazy_pinyin(word)), " ".join(_char_pinyin(ch) for ch in word)))
        _pinyin_key_cache[word] = keys
    return keys


# --------------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Field:
    key: str
    weight: float
    b: float
    label: str  # how a match in this field is explained: label.format(term)


_FIELDS = (
    _Field("name", 5.0, 0.3, "名称含「{}」"),
    _Field("keywords", 3.0, 0.4, "关键词「{}」"),
    _Field("colloquial", 2.5, 0.4, "常见问法含「{}」"),
    _Field("themes", 1.5, 0.3, "属于「{}」主题"),
    _Field("results", 1.5, 0.5, "办理结果含「{}」"),
    _Field("situations", 0.8, 0.6, "适用情形含「{}」"),
    _Field("department", 0.8, 0.3, "办理部门含「{}」"),
    _Field("conditions", 0.5, 0.6, "办理条件含「{}」"),
    _Field("materials", 0.5, 0.6, "申请材料含「{}」"),
    _Field("basis", 0.3, 0.5, "办理依据含「{}」"),
    _Field("notes", 0.2, 0.6, "材料说明含「{}」"),
)
_VOCABULARY_FIELDS = ("name", "keywords", "colloquial", "results")
_K1 = 1.2
_MIN_IDF = 0.2  # terms in more than ~80% of the items are not indexed

# Query-term weights by where the term came from.
_W_WORD, _W_SUBWORD, _W_BACKOFF, _W_BIGRAM, _W_CHAR = 1.0, 0.4, 0.8, 0.3, 0.25
_W_SYNONYM = 0.9
_W_HOMOPHONE, _W_FUZZY, _W_EDIT, _W_PREFIX = 0.9, 0.75, 0.6, 0.7
_OTHER_READINGS = 0.3  # share of the score counted for readings of a part other than its best
_NAME_BONUS = 0.5  # extra score for an item whose whole name the query accounts for
_RELATIVE_FLOOR = 0.1  # hits below this share of the best score are left out
_COVERAGE_FLOOR = 0.35  # share of the score an item keeps when it matches no part of the query fully
_IDF_CAP = 4.0
_FAMILY_PREFIX = 4  # items whose names begin with the same four characters are variants of one family
_PLACE_PREFIXES = ("中华人民共和国", "上海市", "浦东新区")
_SIBLING_DECAY = 0.85  # share of its score a hit keeps for each better-ranked hit of its family
_BUNDLE_RANK = 5  # a bundle is offered when it ranks among the first five answers,
_BUNDLE_SHARE = 0.4  # scores at least this share of the best item,
_BUNDLE_MEMBERS = 3  # and one of its items is among the first three items
# The catalogue's sub-items: what is done to a licence, registration or card one already has
# (changed, cancelled, reissued, renewed, moved, endorsed), and what gives it in the first place.
_VARIANT_ACTIONS = ("变更", "注销", "补领", "补发", "补证", "换发", "换领", "换证", "遗失", "延续", "迁移", "签注")
_PRIMARY_ACTIONS = ("申领", "设立", "签发", "核发", "认定", "办理", "新办")
_WEAK_CONCEPT = 0.35  # weight, in coverage, of a part of the query that is one lone character


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v]


def _field_texts(item: dict, department_name: str) -> dict[str, list[str]]:
    situations = []
    for question in item.get("situations") or []:
        situations.append(str(question.get("question") or ""))
        situations.extend(str(a.get("label") or "") for a in question.get("answers") or [])
    return {
        "name": _strings(item.get("name")),
        "keywords": _strings(item.get("keywords")),
        "colloquial": _strings(item.get("colloquial")),
        "themes": _strings(item.get("themes")),
        "results": [str(r.get("name") or "") for r in item.get("results") or []],
        "situations": situations,
        "department": [department_name],
        "conditions": _strings(item.get("conditions")),
        "materials": [str(m.get("name") or "") for m in item.get("materials") or []],
        "basis": sorted({str(b.get("law") or "").strip("《》") for b in item.get("legal_basis") or []}),
        "notes": [str(m.get("notes") or "") for m in item.get("materials") or []],
    }


# --------------------------------------------------------------------------------------------
# Query analysis
# --------------------------------------------------------------------------------------------

@dataclass
class _Token:
    text: str
    start: int
    end: int
    stop: bool
    cjk: bool


@dataclass
class _Term:
    weight: float
    concept: int
    origin: tuple  # ("query", shown) | ("synonym", phrase, expansion) | ("correction", typed, target)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------

class SearchIndex:
    """An immutable in-memory index over service items; safe to share between threads."""

    def __init__(self, items: list[dict], synonyms: list[Synonym], department_names: dict[str, str],
                 bundles: Sequence[BundleDocument] = ()) -> None:
        self._tokenizer = _private_tokenizer()
        self._bundle_docs: set[int] = set()
        self._bundle_members: dict[int, set[str]] = {}
        if bundles:
            items = list(items) + [_bundle_item(bundle, items, department_names) for bundle in bundles]
        self._synonyms: dict[str, list[tuple[str, Synonym]]] = {}
        self._single: dict[str, Synonym] = {}
        self._add_vocabulary(items, synonyms)
        phrases: dict[str, Synonym] = {}
        for synonym in synonyms:
            phrase = normalise_query_quiet(synonym.phrase)
            if phrase and phrase not in phrases:
                phrases[phrase] = synonym
        for phrase, synonym in list(phrases.items()):
            if len(phrase) >= 3 and phrase[-1] in _SHOP_SUFFIXES:
                for suffix in _SHOP_VARIANTS:
                    phrases.setdefault(phrase[:-1] + suffix, synonym)
        for phrase, synonym in phrases.items():
            if len(phrase) == 1:
                self._single[phrase] = synonym  # matched only as a word of its own
            else:
                self._synonyms.setdefault(phrase[0], []).append((phrase, synonym))
        for entries in self._synonyms.values():
            entries.sort(key=lambda entry: (-len(entry[0]), entry[0]))

        self._docs: list[dict] = []
        self._texts: list[dict[str, str]] = []  # field → text, to explain matches
        self._objects: dict[str, set[int]] = {}
        self._departments: dict[str, set[int]] = {}
        self._themes: dict[str, set[int]] = {}
        self._text_cache: dict[str, tuple[list[str], list[str], list[str], int]] = {}
        per_doc: list[dict[str, tuple[Counter, Counter, Counter, int]]] = []
        for index, item in enumerate(items):
            code = str(item.get("basic_code", ""))
            department = str(item.get("department", ""))
            department_name = department_names.get(department, department)
            self._docs.append({"code": code, "name": str(item.get("name", "")), "department": department,
                               "department_name": department_name,
                               "name_chars": "".join(_CJK_RUN.findall(str(item.get("name", "")))),
                               "name_counted": _counted_in_name(str(item.get("name", ""))),
                               "variant": _variant_actions(str(item.get("name", ""))),
                               "family": _family(str(item.get("name", "")))})
            for service_object in item.get("service_objects") or []:
                self._objects.setdefault(service_object, set()).add(index)
            if item.get("_bundle"):
                self._bundle_docs.add(index)
                self._bundle_members[index] = set(item["_bundle"])
                self._docs[-1]["department_name"] = "一件事"
            else:
                self._departments.setdefault(department, set()).add(index)
            for theme in item.get("themes") or []:
                self._themes.setdefault(str(theme), set()).add(index)
            fields = {}
            texts_of = _field_texts(item, department_name)
            self._texts.append({key: unicodedata.normalize("NFKC", "\n".join(texts)).translate(_ASCII_LOWER)
                                for key, texts in texts_of.items()})
            for field, texts in texts_of.items():
                words: Counter[str] = Counter()
                bigrams: Counter[str] = Counter()
                chars: Counter[str] = Counter()
                length = 0
                for text in texts:
                    w, bg, ch, n = self._doc_terms(text)
                    words.update(w)
                    bigrams.update(bg)
                    chars.update(ch)
                    length += n
                fields[field] = (words, bigrams, chars, length)
            per_doc.append(fields)
        del self._text_cache
        self._build_postings(per_doc)
        self._build_corrections(synonyms, per_doc)

    # ---- building ----------------------------------------------------------------------

    def _add_vocabulary(self, items: list[dict], synonyms: list[Synonym]) -> None:
        """Item names, keywords, colloquial phrases and synonyms become words of the tokenizer."""
        tokenizer = self._tokenizer
        phrases: list[str] = []
        for item in items:
            phrases.extend(_strings(item.get("name")))
            phrases.extend(_strings(item.get("keywords")))
            phrases.extend(_strings(item.get("colloquial")))
        for synonym in synonyms:
            phrases.append(synonym.phrase)
            phrases.extend(synonym.expansions)
        seen: set[str] = set()
        for phrase in phrases:
            for piece in _ADDABLE.findall(phrase.translate(_ASCII_LOWER)):
                if 2 <= len(piece) <= 30 and piece not in seen:
                    seen.add(piece)
                    if not tokenizer.FREQ.get(piece):
                        tokenizer.add_word(piece)

    def _words_of(self, token: str) -> list[str]:
        """A token and the dictionary words inside it (for "居民身份证": 居民, 身份, 身份证 ...)."""
        out = [token] if token not in STOP_WORDS else []
        length = len(token)
        if length > 2 and _CJK_ONLY.match(token):
            freq = self._tokenizer.FREQ
            for size in range(length - 1, 1, -1):
                for start in range(0, length - size + 1):
                    piece = token[start:start + size]
                    if freq.get(piece) and piece not in STOP_WORDS:
                        out.append(piece)
        return out

    def _doc_terms(self, text: str) -> tuple[list[str], list[str], list[str], int]:
        cached = self._text_cache.get(text)
        if cached is not None:
            return cached
        text = unicodedata.normalize("NFKC", text).translate(_ASCII_LOWER)
        words: list[str] = []
        for token in self._tokenizer.cut(text):
            if len(token) >= 2 and (_CJK_ONLY.match(token) or _ALNUM_RUN.fullmatch(token)):
                words.extend(self._words_of(token))
        bigrams: list[str] = []
        chars: list[str] = []
        length = 0
        for run in _CJK_RUN.findall(text):
            chars.extend(run)
            bigrams.extend(run[i:i + 2] for i in range(len(run) - 1))
            length += len(run)
        length += sum(len(run) for run in _ALNUM_RUN.findall(text))
        result = (words, bigrams, chars, length)
        self._text_cache[text] = result
        return result

    def _build_postings(self, per_doc: list[dict]) -> None:
        """term → {doc: saturated BM25F weight × idf} and term → {doc: field bit mask}, per channel."""
        count = len(per_doc)
        averages = {}
        for field in _FIELDS:
            total = sum(doc[field.key][3] for doc in per_doc)
            averages[field.key] = (total / count) if count and total else 1.0
        channels = []
        for channel in range(3):
            tf: dict[str, dict[int, float]] = {}
            masks: dict[str, dict[int, int]] = {}
            for doc_index, fields in enumerate(per_doc):
                for bit, field in enumerate(_FIELDS):
                    counter, length = fields[field.key][channel], fields[field.key][3]
                    if not counter:
                        continue
                    norm = field.weight / (1.0 - field.b + field.b * length / averages[field.key])
                    for term, n in counter.items():
                        by_doc = tf.get(term)
                        if by_doc is None:
                            by_doc = tf[term] = {}
                            masks[term] = {}
                        by_doc[doc_index] = by_doc.get(doc_index, 0.0) + n * norm
                        masks[term][doc_index] = masks[term].get(doc_index, 0) | (1 << bit)
            postings: dict[str, dict[int, float]] = {}
            idfs: dict[str, float] = {}
            for term, by_doc in tf.items():
                df = len(by_doc)
                idf = math.log(1.0 + (count - df + 0.5) / (df + 0.5))
                if idf < _MIN_IDF and count >= 20:
                    del masks[term]  # in nearly every item ("申请", "符合"): says nothing, costs time
                    continue
                postings[term] = {doc: idf * value / (value + _K1) for doc, value in by_doc.items()}
                idfs[term] = idf
            channels.append((postings, masks, idfs))
        self._words, self._word_masks, self._word_idf = channels[0]
        self._bigrams, self._bigram_masks, self._bigram_idf = channels[1]
        self._chars, self._char_masks, self._char_idf = channels[2]

    def _build_corrections(self, synonyms: list[Synonym], per_doc: list[dict]) -> None:
        """Vocabulary the typo tolerance may correct towards, keyed by pinyin and by near spelling."""
        targets: set[str] = set()
        for fields in per_doc:
            for key in _VOCABULARY_FIELDS:
                targets.update(fields[key][0])
        targets.update(word for word in _dictionary_words if word in self._words)
        self._synonym_phrases = {normalise_query_quiet(s.phrase) for s in synonyms}
        targets.update(self._synonym_phrases)
        for synonym in synonyms:
            targets.update(e for e in synonym.expansions if e in self._words)
        targets = {t for t in targets if 2 <= len(t) <= 10 and _CJK_ONLY.match(t)}
        self._targets = sorted(targets)
        self._exact: dict[str, list[str]] = {}
        self._fuzzy: dict[str, list[str]] = {}
        self._substitution: dict[str, list[str]] = {}
        self._omission: dict[str, list[str]] = {}
        self._spelled: dict[str, list[str]] = {}  # pinyin typed in latin letters → words
        for word in self._targets:
            for key in _pinyin_keys(word):
                self._exact.setdefault(key, []).append(word)
                self._spelled.setdefault(key.replace(" ", ""), []).append(word)
                if len(word) >= 3:
                    fuzzy = " ".join(_fuzzy_syllable(s) for s in key.split())
                    self._fuzzy.setdefault(fuzzy, []).append(word)
            if len(word) >= 4:
                for i in range(len(word)):
                    self._substitution.setdefault(word[:i] + "\0" + word[i + 1:], []).append(word)
                    self._omission.setdefault(word[:i] + word[i + 1:], []).append(word)
        for table in (self._exact, self._fuzzy, self._spelled):
            for key, words in table.items():
                table[key] = sorted(set(words))

    # ---- querying ----------------------------------------------------------------------

    def search(self, query: str, *, service_object: str | None = None, department: str | None = None,
               theme: str | None = None, limit: int = 10, bundles: int = 0) -> list[SearchHit]:
        """Items best first; with ``bundles`` > 0, also at most that many bundles (一件事) ranked
        among the leaders, placed before the items (``kind`` tells them apart)."""
        text = normalise_query(query)
        if limit <= 0:
            return []
        terms, concept_weights, runs = self._analyse(text)
        allowed = self._filtered(service_object, department, theme)
        if allowed is not None and not allowed:
            return []

        # Each alternative reading of a part of the query (what was typed, each synonym expansion,
        # each correction) is scored on its own; per part the best reading counts fully, the others
        # a little, so a phrase with many expansions does not outweigh a plain word.
        alternatives: dict[tuple, int] = {}
        per_alternative: list[dict[int, float]] = []
        concept_alternatives: dict[int, list[int]] = {}
        information: dict[int, float] = {}  # part of the query → the idf of its rarest term
        for table, idfs, channel_terms in ((self._words, self._word_idf, terms[0]),
                                           (self._bigrams, self._bigram_idf, terms[1]),
                                           (self._chars, self._char_idf, terms[2])):
            for term, info in channel_terms.items():
                postings = table.get(term)
                if not postings:
                    continue
                if idfs[term] > information.get(info.concept, 0.0):
                    information[info.concept] = idfs[term]
                key = (info.concept, info.origin if info.origin[0] != "query" else ("query",))
                number = alternatives.get(key)
                if number is None:
                    number = alternatives[key] = len(per_alternative)
                    per_alternative.append({})
                    concept_alternatives.setdefault(info.concept, []).append(number)
                accumulated, weight = per_alternative[number], info.weight
                for doc, value in postings.items():
                    accumulated[doc] = accumulated.get(doc, 0.0) + weight * value

        scores: dict[int, float] = {}
        covered: dict[int, int] = {}
        for concept, numbers in concept_alternatives.items():
            bit = 1 << concept
            if len(numbers) == 1:
                combined = per_alternative[numbers[0]]
            else:
                best: dict[int, float] = {}
                combined = {}
                for number in numbers:
                    for doc, value in per_alternative[number].items():
                        combined[doc] = combined.get(doc, 0.0) + value
                        if value > best.get(doc, 0.0):
                            best[doc] = value
                combined = {doc: best[doc] + _OTHER_READINGS * (value - best[doc]) for doc, value in combined.items()}
            for doc, value in combined.items():
                scores[doc] = scores.get(doc, 0.0) + value
                covered[doc] = covered.get(doc, 0) | bit

        # Each part of the query counts, in coverage, by how telling it is: a part no item could
        # match does not count, a part as common as "申请" counts little.
        concept_weights = tuple(w * min(information.get(i, 0.0), _IDF_CAP) for i, w in enumerate(concept_weights))
        total = sum(concept_weights) or 1.0
        shares: dict[int, float] = {}
        ranked = []
        for doc, raw in scores.items():
            if allowed is not None and doc not in allowed:
                continue
            if doc in self._bundle_docs and (not bundles or department is not None):
                continue
            mask = covered[doc]
            share = shares.get(mask)
            if share is None:
                share = shares[mask] = sum(w for i, w in enumerate(concept_weights) if mask >> i & 1) / total
            score = raw * (_COVERAGE_FLOOR + (1.0 - _COVERAGE_FLOOR) * share)
            if score > 0:
                ranked.append((-score, self._docs[doc]["code"], doc))
        # Rerank the leaders by how much of each name the query accounts for.
        leaders = heapq.nsmallest(max(limit * 3, 30), ranked)
        strings = [term for term, info in terms[0].items() if info.weight >= 0.5]
        strings += [term for term, info in terms[1].items() if info.origin[0] == "query"]
        # A variant of an item (its name says only 补领, 变更, 注销 ...) the query does not ask for
        # (typed, or through a synonym or correction): its whole name matched ranks it no higher
        # than another item's name matching nothing.
        asked = {action for action in _VARIANT_ACTIONS if action in text or any(action in term for term in terms[0])}
        final = []
        for negative, code, doc in leaders:
            bonus = 1.0 + _NAME_BONUS * self._name_coverage(doc, strings)
            variant = self._docs[doc]["variant"]
            if variant and not variant & asked:
                bonus /= 1.0 + _NAME_BONUS
            score = round(-negative * bonus, 6)
            if score > 0:
                final.append((-score, code, doc))
        final = self._diversified(final)
        # A hit scoring a tenth of the best matched on a stray character ("批", "办"): noise, not an answer.
        floor = -final[0][0] * _RELATIVE_FLOOR if final else 0.0
        items = [entry for entry in final if entry[2] not in self._bundle_docs][:limit]
        # A bundle is offered when it ranks among the first few answers and near the best item.
        near = -items[0][0] * _BUNDLE_SHARE if items else 0.0
        leading = {code for _score, code, _doc in items[:_BUNDLE_MEMBERS]}
        offered = [entry for entry in final[:_BUNDLE_RANK] if entry[2] in self._bundle_docs
                   and -entry[0] >= max(floor, near) and leading & self._bundle_members[entry[2]]][:bundles]
        return [self._hit(doc, -negative, terms, runs) for negative, _, doc in offered + items if -negative >= floor]

    def _diversified(self, ranked: list[tuple[float, str, int]]) -> list[tuple[float, str, int]]:
        """The ranking with variants of one item spread out: each hit is ordered as if it lost a
        share of its score for every better hit of the same family (names beginning alike: "个体工商户设立登记",
        "个体工商户变更登记" ...), so that a query touching two things ("个体户怎么开票") shows
        both rather than three variants of one."""
        pending = sorted(ranked)
        chosen: list[tuple[float, str, int]] = []
        families: Counter[str] = Counter()
        while pending:
            best: tuple[float, str, int, int] | None = None
            for index, (negative, code, doc) in enumerate(pending):
                adjusted = negative * _SIBLING_DECAY ** families[self._docs[doc]["family"]]
                if best is None or (adjusted, code) < best[:2]:
                    best = (adjusted, code, doc, index)
                if best is not None and negative > best[0]:
                    break  # sorted: nothing further down can beat it
            assert best is not None  # pending is not empty
            _adjusted, code, doc, index = best
            chosen.append(pending.pop(index))  # its own score: the order, not the relevance, makes room
            families[self._docs[doc]["family"]] += 1
        return chosen

    def _filtered(self, service_object: str | None, department: str | None, theme: str | None) -> set[int] | None:
        allowed: set[int] | None = None
        for wanted, table in ((service_object, self._objects), (department, self._departments), (theme, self._themes)):
            if wanted is not None:
                found = table.get(wanted, set())
                allowed = found if allowed is None else allowed & found
        return allowed

    def browse(self, *, service_object: str | None = None, department: str | None = None,
               theme: str | None = None) -> list[SearchHit]:
        """Every item (no bundle) with the applicant type, department and theme asked, by name."""
        allowed = self._filtered(service_object, department, theme)
        docs = range(len(self._docs)) if allowed is None else allowed
        chosen = sorted((doc for doc in docs if doc not in self._bundle_docs),
                        key=lambda doc: (self._docs[doc]["department"], self._docs[doc]["code"]))
        return [SearchHit(code=self._docs[doc]["code"], name=self._docs[doc]["name"],
                          department=self._docs[doc]["department"],
                          department_name=self._docs[doc]["department_name"], score=0.0, why=()) for doc in chosen]

    def codes(self, *, service_object: str | None = None, department: str | None = None,
              theme: str | None = None) -> list[str]:
        """Basic codes of the items (no bundle) with the applicant type, department and theme asked."""
        return [hit.code for hit in self.browse(service_object=service_object, department=department, theme=theme)]

    def _name_coverage(self, doc: int, strings: list[str]) -> float:
        """The share of the name the query accounts for. Words of the name that a query never
        counts (stop words: "上海市", "办理") are left out of it: "上海市居住证办理" is all
        "居住证", "上海市居住证签注" is not."""
        name, counted = self._docs[doc]["name_chars"], self._docs[doc]["name_counted"]
        if not name:
            return 0.0
        marked = bytearray(len(name))
        for string in strings:
            at = name.find(string)
            while at >= 0:
                marked[at:at + len(string)] = b"\x01" * len(string)
                at = name.find(string, at + 1)
        return sum(m & c for m, c in zip(marked, counted)) / sum(counted)

    def _analyse(self, text: str):
        """Terms per channel (word, bigram, character), each with its weight, the part of the query
        it stands for and where it came from; the weight of each part; the runs of content characters."""
        tokenizer = self._tokenizer
        tokens = []
        for word, start, end in tokenizer.tokenize(text):
            if word.isspace() or not any(ch.isalnum() for ch in word):
                continue
            cjk = bool(_CJK_ONLY.match(word))
            if cjk and 2 <= len(word) <= 3 and word[0] in _MODALS and word not in self._words \
                    and word not in self._synonym_phrases and word not in STOP_WORDS:
                # jieba glues a modal to its verb ("要开", "想开", "能领"): keep the verb on its own.
                tokens.append(_Token(word[0], start, start + 1, True, True))
                word, start = word[1:], start + 1
            tokens.append(_Token(word, start, end, word in STOP_WORDS, cjk))

        spans = self._synonym_spans(text, tokens)
        groups = _UnionFind(len(tokens))
        covered_by: dict[int, int] = {}  # token → span index, for tokens inside a synonym phrase
        for s, (start, end, _phrase, _synonym) in enumerate(spans):
            inside = [i for i, t in enumerate(tokens) if t.start >= start and t.end <= end]
            overlapping = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
            for i in inside:
                covered_by[i] = s
            for i in overlapping[1:]:
                groups.union(overlapping[0], i)
        corrections = self._corrections(text, tokens, spans)
        for first, last, *_rest in corrections:
            for i in range(first + 1, last + 1):
                groups.union(first, i)

        # Parts of the query ("concepts"): content tokens grouped by phrase and correction.
        roots: dict[int, int] = {}
        concept_of: dict[int, int] = {}
        weights: list[float] = []
        for i, token in enumerate(tokens):
            if token.stop and i not in covered_by:
                continue
            root = groups.find(i)
            if root not in roots:
                roots[root] = len(weights)
                weights.append(0.0)
            concept = roots[root]
            concept_of[i] = concept
            strong = len(token.text) >= 2 and not token.stop or i in covered_by
            weights[concept] = max(weights[concept], 1.0 if strong else _WEAK_CONCEPT)
        for first, *_rest in corrections:
            if first in concept_of:
                weights[concept_of[first]] = 1.0
        if len(weights) > 60:  # at most 100 characters, but keep the bit masks small
            weights = weights[:60]
            concept_of = {i: c for i, c in concept_of.items() if c < 60}

        terms: tuple[dict[str, _Term], dict[str, _Term], dict[str, _Term]] = ({}, {}, {})

        def add(channel: int, term: str, weight: float, concept: int, origin: tuple) -> None:
            current = terms[channel].get(term)
            if current is None or weight > current.weight:
                terms[channel][term] = _Term(weight, concept, origin)

        # Words typed, with the dictionary words inside them, and lone characters.
        for i, token in enumerate(tokens):
            if i not in concept_of or token.stop:
                continue
            concept = concept_of[i]
            if len(token.text) >= 2:
                for word, weight in self._weighted_words(token.text, _W_WORD):
                    add(0, word, weight, concept, ("query", word))
            elif token.cjk and i not in covered_by:
                add(2, token.text, _W_CHAR, concept, ("query", token.text))

        # Character bigrams within runs of content tokens (function words break a run).
        runs: list[str] = []
        run_tokens: list[int] = []
        for i, token in enumerate(tokens):
            usable = token.cjk and i in concept_of and (not token.stop or i in covered_by)
            if run_tokens and (not usable or tokens[run_tokens[-1]].end != token.start):
                self._emit_bigrams(tokens, run_tokens, concept_of, add, runs)
                run_tokens = []
            if usable:
                run_tokens.append(i)
        if run_tokens:
            self._emit_bigrams(tokens, run_tokens, concept_of, add, runs)

        # Synonyms: the phrase's government vocabulary joins the query.
        for start, end, phrase, synonym in spans:
            members = [concept_of[i] for i, t in enumerate(tokens)
                       if i in concept_of and t.start < end and t.end > start]
            if not members:
                continue
            self._add_expansions(phrase, synonym, members[0], _W_SYNONYM, add)
        # Corrections: what the typed characters probably meant.
        for first, _last, typed, targets, weight, kind in corrections:
            corrected = concept_of.get(first)
            if corrected is None:
                continue
            for target in targets:
                origin = ("correction", typed, target, kind)
                for word, word_weight in self._weighted_words(target, weight):
                    add(0, word, word_weight, corrected, origin)
                for k in range(len(target) - 1):
                    add(1, target[k:k + 2], weight * _W_BIGRAM, corrected, origin)
                for entry in self._synonyms.get(target[0], []):
                    if entry[0] == target:
                        self._add_expansions(target, entry[1], corrected, weight * _W_SYNONYM, add, origin)
        return terms, tuple(weights), runs

    def _weighted_words(self, token: str, weight: float) -> list[tuple[str, float]]:
        """A word and the dictionary words inside it, with query weights. When no item uses the
        whole word ("出生登记"), its largest parts that items do use stand in for it."""
        words = self._words_of(token)
        if not words or words[0] != token:
            return [(word, weight * _W_SUBWORD) for word in words]
        if token in self._words or len(words) == 1:
            return [(words[0], weight)] + [(word, weight * _W_SUBWORD) for word in words[1:]]
        present = [word for word in words[1:] if word in self._words]
        out = [(token, weight)]
        for word in words[1:]:
            maximal = word in self._words and not any(word != other and word in other for other in present)
            out.append((word, weight * (_W_BACKOFF if maximal else _W_SUBWORD)))
        return out

    def _emit_bigrams(self, tokens, run_tokens, concept_of, add, runs) -> None:
        run = "".join(tokens[i].text for i in run_tokens)
        runs.append(run)
        owner = []
        for i in run_tokens:
            owner.extend([concept_of[i]] * len(tokens[i].text))
        for k in range(len(run) - 1):
            add(1, run[k:k + 2], _W_BIGRAM, owner[k], ("query", run[k:k + 2]))

    def _add_expansions(self, phrase: str, synonym: Synonym, concept: int, weight: float, add,
                        via: tuple | None = None) -> None:
        """The government vocabulary of a synonym joins the query (explained as the synonym, or as
        the correction ``via`` that led to it)."""
        for expansion in synonym.expansions:
            expansion = normalise_query_quiet(expansion)
            origin = via or ("synonym", phrase, expansion)
            for token in self._tokenizer.cut(expansion):
                if len(token) < 2:
                    continue
                for word, word_weight in self._weighted_words(token, weight):
                    add(0, word, word_weight, concept, origin)
            for run in _CJK_RUN.findall(expansion):
                for k in range(len(run) - 1):
                    add(1, run[k:k + 2], weight * _W_BIGRAM, concept, origin)

    def _synonym_spans(self, text: str, tokens: list[_Token]) -> list[tuple[int, int, str, Synonym]]:
        """Synonym phrases in the query, never overlapping: exact matches first (longest, then
        leftmost), then phrases split by modifiers.

        Exact matches are also looked for with filler words left out ("开了个饭店" holds "开饭店",
        "租了房子" holds "租房子") and across spaces and punctuation. A split phrase is a verb
        followed, within a few words, by a word ending in the rest of the phrase ("开一家科技公司"
        holds "开公司", "开水果铺" holds "开店"). One-character phrases ("刻", "挖") only match a
        word of one character.
        """
        found = set()
        compact: list[str] = []
        origin: list[int] = []
        for token in tokens:
            if token.text not in _FILLERS:
                compact.append(token.text)
                origin.extend(range(token.start, token.end))
        compact_text = "".join(compact)
        for source, positions in ((text, None), (compact_text, origin)):
            for start, ch in enumerate(source):
                for phrase, synonym in self._synonyms.get(ch, ()):
                    if source.startswith(phrase, start):
                        end = start + len(phrase)
                        if positions is not None:
                            start_at, end_at = positions[start], positions[end - 1] + 1
                        else:
                            start_at, end_at = start, end
                        found.add((0, -len(phrase), start_at, end_at, phrase, synonym))
        for i, verb in enumerate(tokens):
            if len(verb.text) == 1 and verb.text in self._single:
                found.add((0, -1, verb.start, verb.end, verb.text, self._single[verb.text]))
            if verb.stop or not verb.cjk:
                continue
            for phrase, synonym in self._synonyms.get(verb.text[0], ()):
                rest = phrase[len(verb.text):]
                if not rest or not phrase.startswith(verb.text):
                    continue
                for j in range(i + 1, min(i + 5, len(tokens))):
                    head = tokens[j]
                    if head.start != tokens[j - 1].end or not head.cjk:
                        break
                    if head.text.endswith(rest) and (j > i + 1 or len(head.text) > len(rest)):
                        found.add((1, -len(phrase), verb.start, head.end, phrase, synonym))
                        break
        chosen: list[tuple[int, int, str, Synonym]] = []
        for _rank, _length, start, end, phrase, synonym in sorted(found, key=lambda f: f[:5]):
            if all(end <= c[0] or start >= c[1] for c in chosen):
                chosen.append((start, end, phrase, synonym))
        chosen.sort(key=lambda c: (c[0], c[1]))
        return chosen

    def _corrections(self, text: str, tokens: list[_Token], spans) -> list[tuple]:
        """Stretches of the query that are probably mistyped or unfinished, as (first token, last
        token, typed text, what it probably meant, weight, kind).

        A stretch is eligible when it starts and ends on a content token, holds a suspicious token
        (a lone character, or a word no item uses) and is not inside a recognised synonym phrase.
        Latin letters are also read as pinyin ("juzhuzheng" → 居住证).
        """
        freq = self._tokenizer.FREQ
        suspicious = []
        for token in tokens:
            if not token.cjk:
                suspicious.append(False)
            elif len(token.text) == 1:
                suspicious.append(True)
            else:
                suspicious.append(token.text not in self._words and token.text not in self._synonym_phrases)
        found = []
        for index, token in enumerate(tokens):
            if not token.cjk and token.text.isalpha() and token.text.isascii() and len(token.text) >= 4:
                targets = self._spelled.get(token.text)
                if targets:
                    found.append((index, index, token.text, self._best(targets), _W_HOMOPHONE, "pinyin"))
        for first in range(len(tokens)):
            if tokens[first].stop or not tokens[first].cjk:
                continue
            window = ""
            odd = False
            for last in range(first, len(tokens)):
                token = tokens[last]
                if not token.cjk or (last > first and tokens[last - 1].end != token.start):
                    break
                window += token.text
                odd = odd or suspicious[last]
                if len(window) > 10:
                    break
                if token.stop or not odd or len(window) < 2:
                    continue
                if window in self._words or window in self._synonym_phrases:
                    continue
                start, end = tokens[first].start, token.end
                if any(s <= start and end <= e for s, e, _p, _syn in spans):
                    continue
                if len(window) == 2 and any(freq.get(t.text) for t in tokens[first:last + 1] if len(t.text) == 2):
                    continue  # a real two-character word: too short to second-guess
                targets, weight, kind = self._correct(window)
                if targets:
                    found.append((first, last, window, targets, weight, kind))
        # Keep the longest stretches; drop those inside an accepted one.
        found.sort(key=lambda f: (-(len(f[2])), f[0]))
        accepted: list[tuple] = []
        for candidate in found:
            if not any(a[0] <= candidate[0] and candidate[1] <= a[1] for a in accepted):
                accepted.append(candidate)
        return accepted[:4]

    def _correct(self, window: str) -> tuple[list[str], float, str]:
        """What a suspicious stretch probably meant: same pinyin, near pinyin, one character
        different or missing, or (for an unfinished word) a word it begins."""
        pinyin = [_char_pinyin(ch) for ch in window]
        candidates = [w for w in self._exact.get(" ".join(pinyin), ()) if w != window]
        if candidates:
            return self._best(candidates), _W_HOMOPHONE, "typo"
        if len(window) >= 3:
            fuzzy = " ".join(_fuzzy_syllable(s) for s in pinyin)
            candidates = [w for w in self._fuzzy.get(fuzzy, ()) if w != window]
            if candidates:
                return self._best(candidates), _W_FUZZY, "typo"
            # A word begun but not finished ("公积金提"), then a character left out ("营业照"),
            # then one character wrong ("营业执找").
            start = bisect.bisect_left(self._targets, window)
            completions = []
            while start < len(self._targets) and self._targets[start].startswith(window):
                if self._targets[start] != window:
                    completions.append(self._targets[start])
                start += 1
            if completions:
                completions.sort(key=lambda w: (len(w), w))
                return self._best(completions[:6]), _W_PREFIX, "prefix"
            missing = self._omission.get(window)
            if missing:
                return self._best(sorted(set(missing))), _W_EDIT, "typo"
            if len(window) >= 4:
                wrong: set[str] = set()
                for i in range(len(window)):
                    wrong.update(self._substitution.get(window[:i] + "\0" + window[i + 1:], ()))
                if wrong:
                    return self._best(sorted(wrong)), _W_EDIT, "typo"
        return [], 0.0, ""

    def _best(self, candidates: list[str]) -> list[str]:
        """At most three candidates, the most widely used first."""
        return sorted(candidates, key=lambda w: (-len(self._words.get(w, ())), w))[:3]

    # ---- explaining --------------------------------------------------------------------

    def _hit(self, doc: int, score: float, terms, runs: list[str]) -> SearchHit:
        info = self._docs[doc]
        return SearchHit(code=info["code"], name=info["name"], department=info["department"],
                         department_name=info["department_name"], score=score,
                         why=self._why(doc, terms, runs), kind="bundle" if doc in self._bundle_docs else "item")

    def _why(self, doc: int, terms, runs: list[str]) -> tuple[str, ...]:
        contributions: dict[str, list] = {}  # shown text → [weight, mask, origin]
        applied: dict[tuple, float] = {}  # synonym / correction origin → weight it brought
        for channel, (table, masks) in enumerate(((self._words, self._word_masks),
                                                   (self._bigrams, self._bigram_masks),
                                                   (self._chars, self._char_masks))):
            for term, info in terms[channel].items():
                value = table.get(term, {}).get(doc)
                if value is None:
                    continue
                weight = info.weight * value
                mask = masks[term][doc]
                if info.origin[0] != "query":
                    applied[info.origin] = applied.get(info.origin, 0.0) + weight
                shown = term
                if channel == 1:
                    shown, mask = self._bigram_span(term, runs, doc, mask)
                entry = contributions.get(shown)
                if entry is None:
                    contributions[shown] = [weight, mask, channel]
                else:
                    entry[0] += weight
                    entry[1] |= mask
                    entry[2] = min(entry[2], channel)

        reasons: list[str] = []
        explained: set[str] = set()
        for origin, _weight in sorted(applied.items(), key=lambda kv: (-kv[1], kv[0])):
            if origin[1] in explained:
                continue
            explained.add(origin[1])
            if origin[0] == "synonym":
                reason = f"「{origin[1]}」是「{origin[2]}」的常用说法"
            elif origin[3] == "prefix":
                reason = f"「{origin[1]}」按「{origin[2]}」查找（补全词语）"
            elif origin[3] == "pinyin":
                reason = f"拼音「{origin[1]}」按「{origin[2]}」查找"
            else:
                reason = f"「{origin[1]}」按「{origin[2]}」查找（可能是错别字）"
            if reason not in reasons:
                reasons.append(reason)
            if len(reasons) == 2:
                break
        matches: list[list[str]] = []  # [shown, reason]
        ordered = sorted(contributions.items(), key=lambda kv: (kv[1][2] == 2, -kv[1][0], kv[0]))
        for shown, (_weight, mask, channel) in ordered:
            if len(reasons) + len(matches) >= 4:
                break
            if channel == 2 and (matches or reasons):
                continue
            field = next(f for bit, f in enumerate(_FIELDS) if mask >> bit & 1)
            if field.key == "department":
                reason = f"办理部门为「{self._docs[doc]['department_name']}」"
            else:
                reason = field.label.format(shown)
            if any(shown in other or reason == other_reason for other, other_reason in matches):
                continue
            inside = [m for m in matches if m[0] in shown]
            if inside:  # "居住" then "居住证": say the longer once
                inside[0][:] = [shown, reason]
                matches[:] = [m for m in matches if m is inside[0] or m not in inside]
                continue
            matches.append([shown, reason])
        return tuple(reasons + [reason for _shown, reason in matches])[:4]

    def _bigram_span(self, bigram: str, runs: list[str], doc: int, mask: int) -> tuple[str, int]:
        """The longest stretch of a query run around ``bigram`` found as such in the most important
        field of ``doc`` holding the bigram, and that field's bit."""
        bit = next(b for b in range(len(_FIELDS)) if mask >> b & 1)
        text = self._texts[doc][_FIELDS[bit].key]
        best = bigram
        for run in runs:
            at = run.find(bigram)
            while at >= 0:
                start, end = at, at + 2
                while start > 0 and run[start - 1:end] in text:
                    start -= 1
                while end < len(run) and run[start:end + 1] in text:
                    end += 1
                if end - start > len(best):
                    best = run[start:end]
                at = run.find(bigram, at + 1)
        return best, 1 << bit

def _family(name: str) -> str:
    """The family of an item's name: its first characters, a place it begins with left out
    ("上海市居住证签注" belongs with "居住证…", not with every "上海市…")."""
    chars = "".join(_CJK_RUN.findall(name))
    for place in _PLACE_PREFIXES:
        if chars.startswith(place) and len(chars) > len(place) + 1:
            chars = chars[len(place):]
            break
    return chars[:_FAMILY_PREFIX]


def _variant_actions(name: str) -> frozenset[str]:
    """What an item's name says is done to something one already has (its 变更, 注销, 补领 ...),
    when that is all it does: none for a name that also gives the thing ("居民身份证申领、换领、补领")."""
    if any(action in name for action in _PRIMARY_ACTIONS):
        return frozenset()
    return frozenset(action for action in _VARIANT_ACTIONS if action in name)


def _counted_in_name(name: str) -> bytes:
    """For each CJK character of an item's name, 1 when it counts in the name's coverage by a query,
    0 when it belongs to a stop word (a place, "办理", "和"): the query side drops those, so no
    query could ever account for them. All 1 when the name is nothing but stop words."""
    counted = bytearray()
    for token in _base_tokenizer().cut(name):
        size = len("".join(_CJK_RUN.findall(token)))
        counted.extend((b"\x00" if token in STOP_WORDS else b"\x01") * size)
    return bytes(counted) if any(counted) else b"\x01" * len(counted)


def _bundle_item(bundle: BundleDocument, items: list[dict], department_names: dict[str, str]) -> dict:
    """A bundle as an item-like document: its name and summary, its items' names as what it gives,
    their themes and keywords, and the departments that take part."""
    members = [item for item in items if item.get("basic_code") in bundle.items]
    themes = sorted({str(theme) for item in members for theme in item.get("themes") or []})
    keywords = [bundle.name.removesuffix("一件事")] + [str(k) for item in members for k in item.get("keywords") or []]
    colloquial = [bundle.summary] + [str(c) for item in members for c in item.get("colloquial") or []]
    return {"basic_code": bundle.code, "name": bundle.name, "department": "", "_bundle": list(bundle.items),
            "service_objects": ["自然人", "法人"] if bundle.applicant_type == "自然人" else [bundle.applicant_type],
            "keywords": keywords, "colloquial": colloquial, "themes": themes,
            "results": [{"name": str(item.get("name") or "")} for item in members],
            "conditions": sorted({department_names.get(str(item.get("department")), "") for item in members} - {""})}


def normalise_query_quiet(text: str) -> str:
    """Normalisation for trusted vocabulary (synonyms): the same folding, never an error."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).translate(_ASCII_LOWER)
