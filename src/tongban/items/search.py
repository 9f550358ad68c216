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
  are reranked by how much of their name the query accounts for.
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
import logging
import math
import random
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_QUERY_LENGTH", "QueryError", "SearchHit", "SearchIndex", "Synonym", "default_synonyms",
    "generated_items", "load_synonyms", "normalise_query",
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


def _base_tokenizer():
    """The process-wide tokenizer with jieba's and the government dictionary (built once, ~1 s)."""
    global _base, _dictionary_words
    if _base is None:
        with _lock:
            if _base is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)  # its loading messages are debug logs, never stdout
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                tokenizer.load_userdict(str(DICTIONARY_PATH))
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


def _pinyin_keys(word: str) -> set[str]:
    """Pinyin of a vocabulary word: as a phrase (polyphones resolved) and character by character."""
    from pypinyin import lazy_pinyin

    return {" ".join(lazy_pinyin(word)), " ".join(_char_pinyin(ch) for ch in word)}


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

    def __init__(self, items: list[dict], synonyms: list[Synonym], department_names: dict[str, str]) -> None:
        self._tokenizer = _private_tokenizer()
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
        self._text_cache: dict[str, tuple[list[str], list[str], list[str], int]] = {}
        per_doc: list[dict[str, tuple[Counter, Counter, Counter, int]]] = []
        for index, item in enumerate(items):
            code = str(item.get("basic_code", ""))
            department = str(item.get("department", ""))
            department_name = department_names.get(department, department)
            self._docs.append({"code": code, "name": str(item.get("name", "")), "department": department,
                               "department_name": department_name,
                               "name_chars": "".join(_CJK_RUN.findall(str(item.get("name", ""))))})
            for service_object in item.get("service_objects") or []:
                self._objects.setdefault(service_object, set()).add(index)
            self._departments.setdefault(department, set()).add(index)
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
               limit: int = 10) -> list[SearchHit]:
        text = normalise_query(query)
        if limit <= 0:
            return []
        terms, concept_weights, runs = self._analyse(text)
        allowed: set[int] | None = None
        if service_object is not None:
            allowed = self._objects.get(service_object, set())
        if department is not None:
            in_department = self._departments.get(department, set())
            allowed = in_department if allowed is None else allowed & in_department
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
        final = []
        for negative, code, doc in leaders:
            score = round(-negative * (1.0 + _NAME_BONUS * self._name_coverage(doc, strings)), 6)
            if score > 0:
                final.append((-score, code, doc))
        final.sort()
        # A hit scoring a tenth of the best matched on a stray character ("批", "办"): noise, not an answer.
        floor = -final[0][0] * _RELATIVE_FLOOR if final else 0.0
        return [self._hit(doc, -negative, terms, runs) for negative, _, doc in final[:limit] if -negative >= floor]

    def _name_coverage(self, doc: int, strings: list[str]) -> float:
        name = self._docs[doc]["name_chars"]
        if not name:
            return 0.0
        marked = bytearray(len(name))
        for string in strings:
            at = name.find(string)
            while at >= 0:
                marked[at:at + len(string)] = b"\x01" * len(string)
                at = name.find(string, at + 1)
        return sum(marked) / len(marked)

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
                         why=self._why(doc, terms, runs))

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

def normalise_query_quiet(text: str) -> str:
    """Normalisation for trusted vocabulary (synonyms): the same folding, never an error."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).translate(_ASCII_LOWER)



# --------------------------------------------------------------------------------------------
# Filler items (benchmarks)
# --------------------------------------------------------------------------------------------

# Other services of a district catalogue, by department: (subject, category, service objects, law).
# Categories: L licence, F filing, R registration, A approval, B benefit, C certification, S service.
_FILLER_SUBJECTS: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    "PD-CGZF": (("户外广告设施设置", "L", ("法人",), "上海市户外广告设施管理办法"),
                ("户外招牌设置", "F", ("法人", "自然人"), "上海市户外招牌设置管理办法"),
                ("景观灯光设施", "A", ("法人",), "上海市景观照明管理办法"),
                ("生活垃圾收运", "L", ("法人",), "上海市生活垃圾管理条例"),
                ("餐厨废弃油脂收运", "F", ("法人",), "上海市餐厨废弃油脂处理管理办法"),
                ("城市绿化树木修剪", "A", ("法人", "自然人"), "上海市绿化条例"),
                ("临时设摊", "A", ("自然人",), "上海市市容环境卫生管理条例")),
    "PD-JSJT": (("建筑业资质", "L", ("法人",), "建筑业企业资质管理规定"),
                ("工程监理资质", "L", ("法人",), "工程监理企业资质管理规定"),
                ("燃气经营", "L", ("法人",), "城镇燃气管理条例"),
                ("城镇污水排入排水管网", "L", ("法人",), "城镇排水与污水处理条例"),
                ("公共停车场经营", "F", ("法人",), "上海市停车场（库）管理办法"),
                ("机动车维修经营", "F", ("法人", "自然人"), "机动车维修管理规定"),
                ("道路货物运输经营", "L", ("法人", "自然人"), "道路运输条例"),
                ("超限运输车辆行驶公路", "A", ("法人", "自然人"), "公路安全保护条例"),
                ("房屋建筑竣工验收", "F", ("法人",), "建设工程质量管理条例"),
                ("建设工程招标投标", "F", ("法人",), "招标投标法")),
    "PD-STHJ": (("排污", "L", ("法人",), "排污许可管理条例"),
                ("辐射安全", "L", ("法人",), "放射性同位素与射线装置安全和防护条例"),
                ("危险废物经营", "L", ("法人",), "危险废物经营许可证管理办法"),
                ("固体废物跨省转移", "A", ("法人",), "固体废物污染环境防治法"),
                ("突发环境事件应急预案", "F", ("法人",), "突发环境事件应急管理办法"),
                ("社会生活噪声排放", "C", ("法人", "自然人"), "噪声污染防治法")),
    "PD-SCJG": (("药品零售", "L", ("法人",), "药品管理法"),
                ("第二类医疗器械经营", "F", ("法人",), "医疗器械监督管理条例"),
                ("特种设备使用", "R", ("法人",), "特种设备安全法"),
                ("计量标准器具核准", "C", ("法人",), "计量法"),
                ("工业产品生产", "L", ("法人",), "工业产品生产许可证管理条例"),
                ("化妆品经营", "F", ("法人", "自然人"), "化妆品监督管理条例"),
                ("检验检测机构资质", "C", ("法人",), "检验检测机构资质认定管理办法"),
                ("股权出质", "R", ("法人", "自然人"), "股权出质登记办法"),
                ("动产抵押", "R", ("法人", "自然人"), "动产和权利担保统一登记办法"),
                ("广告发布", "R", ("法人",), "广告法")),
    "PD-WJW": (("放射诊疗", "L", ("法人",), "放射诊疗管理规定"),
               ("母婴保健技术服务", "L", ("法人",), "母婴保健法"),
               ("职业健康检查机构", "F", ("法人",), "职业健康检查管理办法"),
               ("消毒产品生产单位", "L", ("法人",), "消毒管理办法"),
               ("集中式供水单位卫生", "L", ("法人",), "生活饮用水卫生监督管理办法"),
               ("护士执业", "R", ("自然人",), "护士条例"),
               ("医师执业", "R", ("自然人",), "医师法"),
               ("计划生育家庭特别扶助", "B", ("自然人",), "人口与计划生育法")),
    "PD-RS": (("人力资源服务", "L", ("法人",), "人力资源市场暂行条例"),
              ("劳务派遣经营", "L", ("法人",), "劳务派遣行政许可实施办法"),
              ("职业技能等级", "C", ("自然人",), "国家职业资格目录"),
              ("就业见习补贴", "B", ("法人",), "上海市就业见习管理办法"),
              ("工伤", "C", ("自然人", "法人"), "工伤保险条例"),
              ("劳动能力鉴定", "S", ("自然人",), "工伤保险条例"),
              ("专业技术职称", "C", ("自然人",), "职称评审管理暂行规定"),
              ("外国人来华工作", "L", ("法人",), "外国人在中国就业管理规定"),
              ("一次性创业补贴", "B", ("自然人",), "上海市鼓励创业带动就业专项资金管理办法")),
    "PD-MZ": (("社会团体", "R", ("法人",), "社会团体登记管理条例"),
              ("民办非企业单位", "R", ("法人",), "民办非企业单位登记管理暂行条例"),
              ("慈善组织公开募捐资格", "C", ("法人",), "慈善法"),
              ("殡葬服务机构", "F", ("法人",), "殡葬管理条例"),
              ("地名命名更名", "A", ("法人",), "地名管理条例"),
              ("残疾人两项补贴", "B", ("自然人",), "上海市残疾人两项补贴实施办法"),
              ("收养", "R", ("自然人",), "民法典"),
              ("高龄老人营养补贴", "B", ("自然人",), "上海市老年人权益保障条例")),
    "PD-GHZY": (("临时建筑", "A", ("法人", "自然人"), "上海市城乡规划条例"),
                ("乡村建设规划", "L", ("自然人", "法人"), "城乡规划法"),
                ("测绘资质", "C", ("法人",), "测绘资质管理办法"),
                ("林木采伐", "L", ("法人", "自然人"), "森林法"),
                ("土地复垦方案", "A", ("法人",), "土地复垦条例"),
                ("地质灾害危险性评估", "F", ("法人",), "地质灾害防治条例")),
    "PD-GA": (("养犬", "R", ("自然人",), "上海市养犬管理条例"),
              ("旅馆业特种行业", "L", ("法人",), "旅馆业治安管理办法"),
              ("典当业特种行业", "L", ("法人",), "典当管理办法"),
              ("大型群众性活动安全", "L", ("法人",), "大型群众性活动安全管理条例"),
              ("烟花爆竹零售", "L", ("法人", "自然人"), "烟花爆竹安全管理条例"),
              ("保安服务", "L", ("法人",), "保安服务管理条例"),
              ("易制毒化学品购买", "F", ("法人",), "易制毒化学品管理条例")),
    "PD-FGW": (("政府投资项目建议书", "A", ("法人",), "政府投资条例"),
               ("固定资产投资项目节能审查", "A", ("法人",), "固定资产投资项目节能审查办法"),
               ("价格认定", "S", ("法人", "自然人"), "价格认定规定"),
               ("粮食收购", "F", ("法人",), "粮食流通管理条例")),
    "PD-YB": (("长期护理保险待遇", "B", ("自然人",), "上海市长期护理保险试点办法"),
              ("定点医药机构", "C", ("法人",), "医疗保障定点医药机构管理暂行办法"),
              ("门诊大病", "C", ("自然人",), "上海市基本医疗保险办法"),
              ("医疗救助", "B", ("自然人",), "社会救助暂行办法")),
    "PD-GJJ": (("单位缴存比例调整", "A", ("法人",), "住房公积金管理条例"),
               ("单位缓缴", "A", ("法人",), "住房公积金管理条例"),
               ("个人账户转移接续", "S", ("自然人",), "住房公积金管理条例")),
    "PD-ZJ": (("房屋租赁合同", "R", ("自然人", "法人"), "商品房屋租赁管理办法"),
              ("物业服务", "F", ("法人",), "物业管理条例"),
              ("商品房预售", "L", ("法人",), "城市商品房预售管理办法"),
              ("住宅专项维修资金使用", "A", ("自然人", "法人"), "住宅专项维修资金管理办法"),
              ("既有多层住宅加装电梯", "A", ("自然人",), "上海市既有多层住宅加装电梯规定")),
    "PD-JY": (("民办学校办学", "L", ("法人",), "民办教育促进法"),
              ("校外培训机构", "L", ("法人",), "校外培训行政处罚暂行办法"),
              ("学生资助", "B", ("自然人",), "学生资助资金管理办法"),
              ("中小学教师职称", "C", ("自然人",), "中小学教师职称评审办法")),
    "PD-SW": (("契税减免", "A", ("自然人", "法人"), "契税法"),
              ("个人所得税综合所得汇算", "S", ("自然人",), "个人所得税法"),
              ("房产税减免", "A", ("自然人", "法人"), "房产税暂行条例"),
              ("车船税减免", "A", ("自然人", "法人"), "车船税法"),
              ("出口退税", "F", ("法人",), "出口货物劳务增值税和消费税管理办法"),
              ("完税证明", "S", ("法人", "自然人"), "税收征收管理法")),
}
# Per category: (action in the name, item type, result, result kind, keyword, variants of the item).
_FILLER_ACTIONS = {
    "L": ("许可", "行政许可", "许可证", "证照", "许可", ("（新办）", "（变更）", "（延续）", "（补证）", "（注销）")),
    "F": ("备案", "其他行政权力", "备案回执", "登记", "备案", ("", "（变更）", "（注销）")),
    "R": ("登记", "行政确认", "登记证明", "登记", "登记", ("（设立）", "（变更）", "（注销）")),
    "A": ("审批", "行政许可", "审批决定书", "批文", "审批", ("", "（变更）")),
    "B": ("申领", "行政给付", "核定结果", "其他", "补贴", ("", "（续领）")),
    "C": ("认定", "行政确认", "认定结果", "其他", "认定", ("", "（复核）")),
    "S": ("办理", "公共服务", "办理结果", "其他", "服务", ("",)),
}
# Later rounds when more items are asked for than subjects × variants.
_FILLER_ROUNDS = ("", "（告知承诺）", "（容缺受理）", "（跨区通办）", "（一网通办）", "（帮办代办）")
_FILLER_MATERIALS = ("营业执照", "法定代表人身份证件", "经办人身份证件及授权委托书", "场地使用证明",
                     "相关人员资格证明", "管理制度文本", "现场照片", "承诺书")


def generated_items(count: int, seed: int = 7) -> list[dict]:
    """``count`` realistic-looking filler items (for load and latency benchmarks).

    Names combine a service subject of a district catalogue with the action and variant usual for
    it ("燃气经营许可（变更）", "物业服务备案", "养犬登记（注销）"); subjects deliberately avoid those of
    the demo items so fillers do not compete with them. Basic codes start with "9"; every item has
    the keys and shape of a demo item and passes ``content.validate``. The same count and seed
    always give the same items.
    """
    from tongban.items.content import DEPARTMENT_IDS, DISTRICT_PREFIX

    rng = random.Random(seed)
    combinations = [(department, subject, variant)
                    for department, subjects in _FILLER_SUBJECTS.items()
                    for subject in subjects for variant in _FILLER_ACTIONS[subject[1]][5]]
    rng.shuffle(combinations)
    items: list[dict] = []
    for number in range(count):
        department, (subject, category, objects, law), variant = combinations[number % len(combinations)]
        action, kind, result, result_kind, keyword, _variants = _FILLER_ACTIONS[category]
        round_ = _FILLER_ROUNDS[(number // len(combinations)) % len(_FILLER_ROUNDS)]
        extra = number // (len(combinations) * len(_FILLER_ROUNDS))
        name = subject + action + variant + round_ + (f"（{extra + 1}）" if extra else "")
        basic = f"9{number:011d}"
        materials = [{"id": "m1", "name": f"{subject}{action}申请表", "form": "原件", "copies": 1,
                      "required": "required", "when": [], "source": "applicant", "issuer": None,
                      "shared_resource": None, "blank_form": True, "sample": True, "notes": "可在网上下载空白表格"}]
        for k, material in enumerate(rng.sample(_FILLER_MATERIALS, 3), start=2):
            shared = material == "营业执照"
            materials.append({"id": f"m{k}", "name": material, "form": "复印件", "copies": 1,
                              "required": "required", "when": [],
                              "source": "shared_data" if shared else "applicant", "issuer": None,
                              "shared_resource": "legal-entities" if shared else None,
                              "blank_form": False, "sample": False,
                              "notes": "通过法人库共享获取，免提交" if shared else ""})
        statutory = rng.choice((None, 20, 30))
        items.append({
            "basic_code": basic,
            "implementation_code": DISTRICT_PREFIX + DEPARTMENT_IDS[department] + basic,
            "name": name,
            "type": kind,
            "department": department,
            "level": "区级",
            "service_objects": list(objects),
            "legal_basis": [{"law": f"《{law}》", "article": f"第{rng.randint(5, 40)}条",
                             "text": f"{subject}{action}依照本规定办理"}],
            "conditions": [f"申请人具备{subject}相关条件", "符合国家和本市有关标准和规范"],
            "situations": [],
            "materials": materials,
            "steps": ["申请", "受理", "审查", "决定"],
            "statutory_days": statutory,
            "committed_days": None if statutory is None else statutory // 2,
            "fees": [],
            "results": [{"name": f"{subject}{result}", "kind": result_kind, "licence": result_kind == "证照"}],
            "channels": ["网上", "窗口"],
            "online_url": None,
            "address": "浦东新区合欢路201号 浦东新区企业服务中心",
            "hours": "周一至周五 9:00-17:00（法定节假日除外）",
            "phone": "021-12345",
            "online_depth": rng.randint(2, 4),
            "relations": [],
            "keywords": [subject, keyword],
            "colloquial": [f"办{subject}{action}需要什么条件"],
        })
    return items
