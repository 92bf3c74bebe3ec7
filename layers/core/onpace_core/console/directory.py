"""The district's student directory: search by name, email or id, and names by id.

Written by the roster import (:func:`sync_directory`), read by the console (:func:`search_students`,
:class:`NameBook`). Items live in the Programs table under ``dir#{district}``
(``store.models.DirectoryModel``): a student's record ``s#{id}``, one item per search token
``t#{token}#{id}`` carrying a copy of what a result shows, and each class's title ``c#{id}``.
A search is one Query (``begins_with`` on the most selective word); a student whose enrollments
all ended stays, marked ``removed_on``: the audit log outlives the roster.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from onpace_core.store.models import DIRECTORY_PREFIX, STUDENT_SUBJECT_CLASS, DirectoryModel

if TYPE_CHECKING:  # the console's cold start does not load the roster reader
    from onpace_core.roster.enrollments import EnrollmentRecord

STUDENT = "s#"
TOKEN = "t#"
CLASS = "c#"
# Items one search reads at most (one Query page): a one-letter search in a big district is cut
# here and says so (``SearchResult.truncated``) rather than paging through the district.
SEARCH_READ_CAP = 300
_SPLIT = re.compile(r"[^\w]+")


def check_district(district_id: str) -> str:
    """``district_id`` if it can be part of a key: not empty, no ``#`` (the key separator: an id
    with one could name another district's partition of an index, ``{district}#{student}``)."""
    if not district_id or "#" in district_id:
        raise ValueError("a district id is not empty and has no '#'")
    return district_id


def partition(district_id: str) -> str:
    """The directory's partition key of ``district_id``."""
    return f"{DIRECTORY_PREFIX}{check_district(district_id)}"


def fold(text: str) -> str:
    """Case- and accent-folded form ("Peña" -> "pena"): what tokens and searches compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # ``#`` separates the parts of a sort key.
    return bare.casefold().replace("#", " ").strip()


def name_tokens(name: str) -> set[str]:
    """Each word of a name, and for a word with punctuation ("O'Brien", "Mary-Jo") its parts and
    the parts joined, so that "obrien", "brien" and "o'brien" all find it."""
    tokens: set[str] = set()
    for word in fold(name).split():
        tokens.add(word)
        parts = [p for p in _SPLIT.split(word) if p]
        tokens.update(parts)
        if parts:
            tokens.add("".join(parts))
    return tokens


def student_tokens(student_id: str, name: str | None, email: str | None) -> list[str]:
    """Every token a student is found by: name words, the whole email, the sourcedId."""
    tokens = name_tokens(name or "")
    if email:
        tokens.add(fold(email))
    tokens.add(fold(student_id))
    return sorted(t for t in tokens if t)


@dataclass(frozen=True)
class DirectoryClass:
    class_id: str
    title: str
    ended_on: str | None = None  # UTC date the roster ended this enrollment


@dataclass(frozen=True)
class StudentHit:
    """One student as the directory holds them."""

    student_id: str
    name: str | None
    email: str | None
    grade: str | None
    classes: tuple[DirectoryClass, ...]
    removed_on: str | None  # set when every enrollment of the student has ended

    @property
    def removed(self) -> bool:
        return self.removed_on is not None


def _classes(raw: Any) -> tuple[DirectoryClass, ...]:
    found = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw or {})
    return tuple(
        DirectoryClass(class_id, str(v.get("title") or class_id), v.get("ended"))
        for class_id, v in sorted(found.items())
        if isinstance(v, Mapping)
    )


def _hit(item: DirectoryModel) -> StudentHit:
    return StudentHit(
        student_id=str(item.student_id),
        name=item.name,
        email=item.email,
        grade=item.grade,
        classes=_classes(item.classes),
        removed_on=item.removed_on,
    )


# ---------------------------------------------------------------------------------------------
# Writing (the roster import)


@dataclass(frozen=True)
class DirectorySync:
    """What one import changed in the directory, and what it cost."""

    students_written: int
    tokens_deleted: int
    classes_written: int


def _view(item: DirectoryModel | None) -> dict[str, Any] | None:
    if item is None:
        return None
    classes = item.classes.as_dict() if hasattr(item.classes, "as_dict") else dict(item.classes or {})
    return {
        "name": item.name,
        "email": item.email,
        "grade": item.grade,
        "classes": {k: dict(v) for k, v in classes.items()},
        "removed_on": item.removed_on,
        "tokens": list(item.tokens or []),
    }


def _student_items(
    district_id: str, student_id: str, view: Mapping[str, Any], at: str
) -> list[DirectoryModel]:
    common = {
        "student_id": student_id,
        "name": view["name"],
        "email": view["email"],
        "grade": view["grade"],
        "classes": view["classes"],
        "removed_on": view["removed_on"],
        "tokens": view["tokens"],
        "updated_at": at,
    }
    pk = partition(district_id)
    items = [DirectoryModel(pk, f"{STUDENT}{student_id}", **common)]
    items.extend(DirectoryModel(pk, f"{TOKEN}{token}#{student_id}", **common) for token in view["tokens"])
    return items


def sync_directory(
    district_id: str,
    records: Sequence[EnrollmentRecord],
    ended_keys: Iterable[str],
    now: datetime,
) -> DirectorySync:
    """Bring the directory in line with an import: ``records`` upserted, ``ended_keys``
    (enrollment keys) ended. Reads the touched students' and classes' items by key
    (BatchGetItem, 100 keys a request) and writes only what changed (BatchWriteItem, 25 a
    request): an unchanged roster reloaded writes nothing."""
    today = now.date().isoformat()
    at = now.isoformat()
    seen: dict[str, dict[str, Any]] = {}
    titles: dict[str, str] = {}
    for r in records:
        if r.class_id == STUDENT_SUBJECT_CLASS:
            continue
        entry = seen.setdefault(
            r.student_id,
            {"name": r.student_name, "email": r.student_address, "grade": r.grade_level, "classes": {}},
        )
        entry["classes"][r.class_id] = r.class_title
        titles[r.class_id] = r.class_title
    ended: dict[str, set[str]] = {}
    prefix = f"{district_id}#"
    for key in ended_keys:
        if not key.startswith(prefix):
            continue
        class_id, _, student_id = key[len(prefix) :].partition("#")
        if class_id != STUDENT_SUBJECT_CLASS:
            ended.setdefault(student_id, set()).add(class_id)
    pk = partition(district_id)
    touched = sorted(set(seen) | set(ended))
    keys = [(pk, f"{STUDENT}{s}") for s in touched] + [(pk, f"{CLASS}{c}") for c in sorted(titles)]
    stored = {item.program_id: item for item in DirectoryModel.batch_get(keys)} if keys else {}
    puts: list[DirectoryModel] = []
    deletes: list[DirectoryModel] = []
    written = 0
    for student_id in touched:
        old = _view(stored.get(f"{STUDENT}{student_id}"))
        fresh = seen.get(student_id)
        if old is None and fresh is None:
            continue  # an ending of a student the directory never had: nothing to show
        classes: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (old or {}).get("classes", {}).items()}
        for class_id, title in (fresh or {}).get("classes", {}).items():
            classes[class_id] = {"title": title}
        for class_id in ended.get(student_id, ()):
            if class_id in classes and (fresh is None or class_id not in fresh["classes"]):
                classes[class_id].setdefault("ended", today)
        live = any("ended" not in c for c in classes.values())
        source: dict[str, Any] = fresh or old or {}
        name, email = source.get("name"), source.get("email")
        tokens = student_tokens(student_id, name, email)
        view: dict[str, Any] = {
            "name": name,
            "email": email,
            "grade": source.get("grade"),
            "classes": classes,
            "removed_on": None if live else ((old or {}).get("removed_on") or today),
            "tokens": tokens,
        }
        if old is not None and all(old[k] == view[k] for k in view):
            continue
        written += 1
        puts.extend(_student_items(district_id, student_id, view, at))
        stale = set((old or {}).get("tokens", [])) - set(tokens)
        deletes.extend(DirectoryModel(pk, f"{TOKEN}{token}#{student_id}") for token in sorted(stale))
    classes_written = 0
    for class_id, title in sorted(titles.items()):
        item = stored.get(f"{CLASS}{class_id}")
        if item is None or item.name != title:
            classes_written += 1
            puts.append(
                DirectoryModel(pk, f"{CLASS}{class_id}", class_id=class_id, name=title, updated_at=at)
            )
    if puts or deletes:
        with DirectoryModel.batch_write() as batch:
            for item in puts:
                batch.save(item)
            for item in deletes:
                batch.delete(item)
    return DirectorySync(written, len(deletes), classes_written)


# ---------------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class SearchResult:
    query: str
    students: tuple[StudentHit, ...]
    truncated: bool  # the Query stopped at SEARCH_READ_CAP items: a longer search narrows it


def search_words(text: str) -> list[str]:
    """The folded words of a search; an email is one word."""
    folded = fold(text)
    if "@" in folded:
        return [folded.replace(" ", "")] if folded else []
    return folded.split()


def search_students(district_id: str, text: str, limit: int = 20) -> SearchResult:
    """Students of ``district_id`` whose name, email or id match ``text``; best first.

    One Query of the directory partition: ``begins_with`` on the longest word (the most
    selective prefix), the other words matched in memory against each candidate's tokens (each
    word must begin some token). Ranked: more words matching whole tokens first, then students
    still enrolled before removed ones, then by name.
    """
    words = search_words(text)
    if not words:
        return SearchResult(text, (), False)
    lead = max(words, key=len)
    page = DirectoryModel.query(
        partition(district_id),
        DirectoryModel.program_id.startswith(f"{TOKEN}{lead}"),
        limit=SEARCH_READ_CAP,
        page_size=SEARCH_READ_CAP,
    )
    items = list(page)
    truncated = len(items) >= SEARCH_READ_CAP and page.last_evaluated_key is not None
    best: dict[str, tuple[int, DirectoryModel]] = {}
    for item in items:
        tokens = list(item.tokens or [])
        score = 0
        for word in words:
            if word in tokens:
                score += 2
            elif any(t.startswith(word) for t in tokens):
                score += 1
            else:
                score = -1
                break
        sid = str(item.student_id)
        if score >= 0 and score > best.get(sid, (-1, item))[0]:
            best[sid] = (score, item)
    ranked = sorted(
        best.values(),
        key=lambda pair: (
            -pair[0],
            pair[1].removed_on is not None,
            fold(pair[1].name or ""),
            pair[1].student_id,
        ),
    )
    return SearchResult(text, tuple(_hit(item) for _, item in ranked[:limit]), truncated)


def get_student(district_id: str, student_id: str) -> StudentHit | None:
    """The directory's record of one student (GetItem), or None."""
    try:
        return _hit(DirectoryModel.get(partition(district_id), f"{STUDENT}{student_id}"))
    except DirectoryModel.DoesNotExist:
        return None


CLASS_LIST_CAP = 1_000


def district_classes(district_id: str) -> list[tuple[str, str]]:
    """``(class id, title)`` of the district's classes by title: one Query of the directory's
    ``c#`` items (at most ``CLASS_LIST_CAP``), for the audit log's class filter."""
    found = DirectoryModel.query(
        partition(district_id),
        DirectoryModel.program_id.startswith(CLASS),
        limit=CLASS_LIST_CAP,
        page_size=CLASS_LIST_CAP,
    )
    pairs = [(str(item.class_id or item.program_id[len(CLASS) :]), str(item.name or "")) for item in found]
    return sorted(pairs, key=lambda pair: (fold(pair[1] or pair[0]), pair[0]))


# ---------------------------------------------------------------------------------------------
# Names by id, for pages of audit rows


class NameBook:
    """Display names of students and titles of classes by id, kept per container.

    A page of audit rows names at most 50 students and 50 classes: the ids not known yet are read
    in one BatchGetItem (100 keys), and names are kept for ``ttl_seconds`` (a renamed student
    shows the new name after that) up to ``max_entries`` (least recently used dropped first).
    An id the directory does not have is remembered too, so it costs no request on the next page.
    """

    def __init__(
        self,
        max_entries: int = 50_000,
        ttl_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self.batch_gets = 0

    def clear(self) -> None:
        self._entries.clear()

    def _known(self, key: tuple[str, str], now: float) -> tuple[bool, str | None]:
        found = self._entries.get(key)
        if found is None or now - found[0] > self._ttl:
            return False, None
        self._entries.move_to_end(key)
        return True, found[1]

    def lookup(
        self, district_id: str, student_ids: Iterable[str], class_ids: Iterable[str]
    ) -> dict[str, str | None]:
        """``{"s#id": name, "c#id": title}`` for the ids given (None: the directory has none)."""
        now = self._clock()
        pk = partition(district_id)
        wanted = {f"{STUDENT}{s}" for s in student_ids if s} | {f"{CLASS}{c}" for c in class_ids if c}
        names: dict[str, str | None] = {}
        missing: list[str] = []
        for sk in sorted(wanted):
            known, name = self._known((pk, sk), now)
            if known:
                names[sk] = name
            else:
                missing.append(sk)
        if missing:
            self.batch_gets += (len(missing) + 99) // 100
            found = {
                item.program_id: item.name
                for item in DirectoryModel.batch_get(
                    [(pk, sk) for sk in missing], attributes_to_get=["district_id", "program_id", "name"]
                )
            }
            for sk in missing:
                names[sk] = found.get(sk)
                self._entries[(pk, sk)] = (now, found.get(sk))
                self._entries.move_to_end((pk, sk))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return names


# One per container: warm pages of the audit log cost no request for names.
NAMES = NameBook()
