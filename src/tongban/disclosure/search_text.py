"""Text for the one-stop search: words of documents and of queries, 文号 keys, snippets.

* **Words** — jieba (its dictionary and ``search_dictionary.txt``, no HMM: the same text is always
  cut the same way) over runs of Chinese characters; latin letters and digits as they are. A
  query is cut into words (precise mode); a document gives every dictionary word in it (full
  mode), so a query word is found whatever way the document's sentence would have been cut.
  Characters jieba leaves alone (names, 文号 prefixes such as 浦府) are joined back into one word
  with their bigrams. Runs repeat a great deal in government documents (boilerplate), so
  the cut of a run is kept (bounded).
* **文号** — however it is typed (``浦府[2026]12号``, ``浦府〔2026〕12号``, ``浦府（2026）12号``,
  ``浦府2026年12号``, ``浦府〔2026〕第12号``, full- or half-width) becomes one key
  (``浦府202612``), stored with the document and indexed as a word of its title.
* **Queries** — a query is a list of *concepts*, all required; each concept has alternatives (the
  word as typed; its parts; the formal words of a synonym; a correction by pinyin for a word no
  document uses). Question words and fillers ("怎么", "哪里", "的") are left out.
* **Snippets** — the stretch of the full text holding the most query words, HTML-escaped, the
  words in ``<mark>``.
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongban.core.segmentation import jieba_tokenizer

DICTIONARY_PATH = Path(__file__).with_name("search_dictionary.txt")
SYNONYMS_PATH = Path(__file__).with_name("search_synonyms.json")

MAX_QUERY_LENGTH = 100  # characters after normalisation
TOO_LONG_MESSAGE = f"查询内容过长（最多 {MAX_QUERY_LENGTH} 个字）"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(f"[{_CJK}]+|[a-z0-9]+")
_CJK_ONLY = re.compile(f"^[{_CJK}]+$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# What people add to a question that no document says: question words, fillers, places every
# document of the district is in. Left out of queries only (a document keeps all its words).
STOP_WORDS = frozenset("""
怎么 怎么办 怎么样 怎样 咋 如何 哪里 哪儿 哪个 哪些 在哪 在哪里 什么 什么样 啥 多少 多久 几 是否 是不是
有没有 能不能 可不可以 可以 能否 需要 时候 什么时候 时间 多长时间 为什么 请问 咨询 查询 查找 查 找 搜索 想 想要 要 我 我们 我家 你 您 他们
的 了 吗 呢 吧 啊 呀 么 嘛 是 有 没有 和 与 及 以及 或 或者 在 对 从 到 给 把 被 让 就 都 也 还 又 再
这个 那个 这 那 这些 那些 一下 一些 相关 有关 关于 方面 问题 情况 内容 规定 政策 文件 信息 最新 今年 去年
上海 上海市 浦东 浦东新区 新区 本区 区里 区 市里 政府
""".split())
# Single characters that never join their neighbours into a word.
_STOP_CHARS = frozenset("的了吗呢吧啊呀么嘛是有和与及或在对从到给把被让就都也还又再这那一个之其为以于等")
_PART_OF_NUMBER = re.compile(
    # prefix, an opening bracket or none, the year, a closing bracket or 年, optionally 第, the number, 号
    r"(?P<prefix>[" + _CJK + r"]{1,12}?)\s*[\[\(〔【［（{<《]?\s*(?P<year>(?:19|20)\d\d)\s*[\]\)〕】］）}>》年]?\s*"
    r"第?\s*(?P<number>\d{1,5})\s*号")


# --------------------------------------------------------------------------------------------
# Normalising and 文号
# --------------------------------------------------------------------------------------------

_SPACES = re.compile("[\\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")


def normalise(text: str) -> str:
    """NFKC (full-width letters, digits and brackets to half-width), control, format and space
    characters as one space, latin letters lower-cased."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip().translate(_ASCII_LOWER)


def number_key(document_number: str | None) -> str | None:
    """The one key of a 文号 however it was typed, or None when the text holds no 文号."""
    if not document_number:
        return None
    found = _PART_OF_NUMBER.search(normalise(document_number))
    return _key(found) if found else None


def _key(found: re.Match) -> str:
    return f"{found['prefix']}{found['year']}{int(found['number'])}"


# --------------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------------

_lock = threading.Lock()
_tokenizer: Any = None


def tokenizer():
    """jieba with the government dictionary (built once per process, about a second)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = jieba_tokenizer(DICTIONARY_PATH, (phrase for synonym in synonyms()
                                                               for phrase in (synonym.phrase, *synonym.expansions)))
    return _tokenizer


@functools.lru_cache(maxsize=300_000)
def _cut(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A run of Chinese characters as (its words in order, every word to index for it).

    The words are jieba's precise cut; characters it leaves alone are joined into one word. What
    is indexed is every dictionary word anywhere in the run (jieba's full mode), so whatever word
    a query is cut into, a document holding those characters holds that word ("居家养老服务补贴"
    gives 居家养老, 养老服务, 服务, 补贴 …), and the joined characters with their bigrams."""
    made = tokenizer()
    words: list[str] = []
    joined: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if len(pending) >= 2:
            word = "".join(pending)
            words.append(word)
            joined.append(word)
            if len(word) > 2:
                joined.extend(word[i:i + 2] for i in range(len(word) - 1))
        pending.clear()

    for token in made.cut(run, HMM=False):
        if len(token) == 1:
            if token in _STOP_CHARS:
                flush()
            else:
                pending.append(token)
            continue
        flush()
        words.append(token)
    flush()
    indexed = [token for token in made.cut(run, cut_all=True) if len(token) >= 2]
    return tuple(words), tuple(indexed + joined)


def _folded(text: str) -> str:
    """NFKC and lower case: all that finding words needs (spaces and symbols split words anyway)."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def words_of(text: str) -> list[str]:
    """Every word to index for a text (title or body), in order, repeated as often as it occurs."""
    out: list[str] = []
    for piece in _PIECES.findall(_folded(text)):
        if piece[0].isascii():
            out.append(piece)
        else:
            out.extend(_cut(piece)[1])
    return out


def title_words(title: str, document_number: str | None) -> list[str]:
    """The words of a title, with the 文号's key and its parts (prefix, year, number), then the
    title's character bigrams in order: a name no dictionary knows (a road, a company, a person)
    is still found in a title as a phrase of bigrams (see ``TITLE_PHRASE``)."""
    words = words_of(title)
    if document_number:
        words.extend(words_of(document_number))
        key = number_key(document_number)
        if key:
            words.append(key)
    for run in _PIECES.findall(_folded(title)):
        if not run[0].isascii():
            words.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words


# An alternative's element that starts with this is a stretch of characters to find in a title
# (as its bigrams, one after the other), not a word.
TITLE_PHRASE = "\x01"


def bigrams(stretch: str) -> list[str]:
    return [stretch[i:i + 2] for i in range(len(stretch) - 1)]


# --------------------------------------------------------------------------------------------
# Synonyms and pinyin
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Synonym:
    phrase: str
    expansions: tuple[str, ...]


@functools.cache
def synonyms() -> tuple[Synonym, ...]:
    with open(SYNONYMS_PATH, encoding="utf-8") as handle:
        document = json.load(handle)
    return tuple(Synonym(normalise(entry["phrase"]), tuple(normalise(e) for e in entry["expansions"]))
                 for entry in document["synonyms"])


@functools.cache
def _synonym_index() -> dict[str, Synonym]:
    return {synonym.phrase: synonym for synonym in synonyms()}


def _pinyin(word: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(word))


@functools.cache
def _homophones() -> dict[str, tuple[str, ...]]:
    """Toneless pinyin → the vocabulary words that sound so (the dictionary and the synonyms)."""
    vocabulary: set[str] = set()
    with open(DICTIONARY_PATH, encoding="utf-8") as handle:
        vocabulary.update(line.split()[0] for line in handle if line.strip())
    for synonym in synonyms():
        vocabulary.add(synonym.phrase)
        vocabulary.update(synonym.expansions)
    for phrase in list(vocabulary):  # and their words: 交通管制 gives 管制 (typed 管治)
        vocabulary.update(word for word in _cut(phrase)[1] if len(word) >= 2)
    by_sound: dict[str, list[str]] = {}
    for word in sorted(vocabulary):
        if _CJK_ONLY.match(word):
            by_sound.setdefault(_pinyin(word), []).append(word)
    return {sound: tuple(words) for sound, words in by_sound.items()}


def homophones(word: str) -> tuple[str, ...]:
    """Words of the vocabulary that sound like ``word`` (a mistyped 补帖 → 补贴)."""
    if not _CJK_ONLY.match(word):
        return ()
    return tuple(w for w in _homophones().get(_pinyin(word), ()) if w != word)


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------

Alternative = tuple[str, ...]  # words that must all be in a document


@dataclass
class Concept:
    """One thing the query asks for: any of its alternatives will do."""

    shown: str
    alternatives: list[Alternative]
    kind: str = "word"  # word | synonym | number
    corrections: list[str] = field(default_factory=list)

    def add(self, alternative: Alternative) -> None:
        if alternative and alternative not in self.alternatives:
            self.alternatives.append(alternative)


@dataclass
class Analysis:
    text: str  # the query, normalised
    concepts: list[Concept]
    number_key: str | None

    def highlight_terms(self) -> list[str]:
        """The words to mark in titles and snippets (longest first)."""
        terms = {word.removeprefix(TITLE_PHRASE) for concept in self.concepts for alternative in concept.alternatives
                 for word in alternative}
        terms |= {c.shown for c in self.concepts if c.kind != "number"}
        return sorted(terms, key=lambda t: (-len(t), t))


def _concepts_of_text(text: str, *, stop: frozenset[str] = STOP_WORDS) -> list[Concept]:
    """Word concepts of a stretch of the query (no synonym or 文号 in it)."""
    concepts: list[Concept] = []
    for piece in _PIECES.findall(text):
        words = [piece] if piece[0].isascii() else _cut(piece)[0]
        concepts.extend(Concept(word, [(word,)]) for word in words if word not in stop)
    return concepts


def _alternative(text: str) -> Alternative:
    """The words a document must have to contain ``text`` (a synonym's phrase or expansion)."""
    words: list[str] = []
    for piece in _PIECES.findall(text):
        words.extend([piece] if piece[0].isascii() else _cut(piece)[0])
    return tuple(dict.fromkeys(w for w in words if len(w) >= 2 or w.isdigit()))


def analyse(query: str) -> Analysis:
    """The concepts of a query already checked by ``check_query`` (normalised)."""
    text = normalise(query)
    concepts: list[Concept] = []
    key = None
    found = _PART_OF_NUMBER.search(text)
    if found:
        key = _key(found)
        concepts.append(Concept(found.group(0), [(key,), _alternative(f"{found['prefix']} {found['year']} {found['number']}")],
                                kind="number"))
        text_left = text[:found.start()] + " " + text[found.end():]
    else:
        text_left = text
    # Synonym phrases anywhere, longest first, without overlap; the rest as words.
    phrases = _synonym_index()
    spans: list[tuple[int, int, Synonym]] = []
    for length in sorted({len(p) for p in phrases}, reverse=True):
        for start in range(0, len(text_left) - length + 1):
            synonym = phrases.get(text_left[start:start + length])
            if synonym and all(start + length <= s or start >= e for s, e, _ in spans):
                spans.append((start, start + length, synonym))
    spans.sort(key=lambda span: span[0])
    at = 0
    for start, end, synonym in spans:
        concepts.extend(_concepts_of_text(text_left[at:start]))
        concept = Concept(synonym.phrase, [], kind="synonym")
        concept.add(_alternative(synonym.phrase))
        for expansion in synonym.expansions:
            concept.add(_alternative(expansion))
        concepts.append(concept)
        at = end
    concepts.extend(_concepts_of_text(text_left[at:]))
    if not concepts:  # nothing but question words ("相关政策"): they are what was asked for
        concepts = _concepts_of_text(text_left, stop=frozenset())
    unique: dict[tuple, Concept] = {}
    for concept in concepts:
        unique.setdefault(tuple(concept.alternatives), concept)
    return Analysis(text=text, concepts=list(unique.values()), number_key=key)


def query_problem(query: str) -> str | None:
    """Why a query cannot be searched (too long), or None. Kept apart so that nothing is cut first."""
    if len(query) > MAX_QUERY_LENGTH * 4 or len(normalise(query)) > MAX_QUERY_LENGTH:
        return TOO_LONG_MESSAGE
    return None


def has_words(query: str) -> bool:
    return any(ch.isalnum() for ch in normalise(query))


# --------------------------------------------------------------------------------------------
# Marking and snippets
# --------------------------------------------------------------------------------------------

def _pattern(terms: list[str]) -> re.Pattern | None:
    terms = [t for t in terms if t]
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=lambda t: (-len(t), t))))


def mark(text: str, terms: list[str]) -> str:
    """``text`` HTML-escaped, each stretch of terms in one ``<mark>`` (养老服务 next to 补贴: one)."""
    text = normalise(text)
    pattern = _pattern(terms)
    if pattern is None:
        return html.escape(text)
    spans: list[list[int]] = []
    for found in pattern.finditer(text):
        if spans and spans[-1][1] == found.start():
            spans[-1][1] = found.end()
        else:
            spans.append([found.start(), found.end()])
    out, at = [], 0
    for start, end in spans:
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def snippet(body: str, terms: list[str], length: int = 110) -> str:
    """The stretch of ``body`` (about ``length`` characters) holding the most distinct terms,
    marked; the opening of the body when no term is in it."""
    text = normalise(body)
    pattern = _pattern(terms)
    start = 0
    if pattern is not None:
        found = [(m.start(), m.group(0)) for m in pattern.finditer(text, 0, 200_000)]
        best = -1
        for i, (position, _word) in enumerate(found[:300]):
            window_end = position + length - 20
            distinct = Counter(w for p, w in found[i:i + 40] if p < window_end)
            score = len(distinct) * 100 + sum(distinct.values())
            if score > best:
                best, start = score, max(0, position - 20)
    end = min(len(text), start + length)
    if end - start < length:
        start = max(0, end - length)
    piece = text[start:end]
    marked = mark(piece, terms)
    return ("…" if start > 0 else "") + marked + ("…" if end < len(text) else "")
