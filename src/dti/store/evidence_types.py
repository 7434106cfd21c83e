"""The kinds of evidence file the app accepts, each recognised by its content and then verified by
parsing it: a PDF must open, an image must have its whole structure, an office document must be
the archive its content types say, without macros.  Markup a browser could run (HTML, SVG, XML,
scripts) is never accepted, whatever the file claims to be.

Used by :mod:`dti.store.evidence`; nothing here writes or reads the database.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from dti.errors import Problem


@dataclass(frozen=True)
class Kind:
    """One accepted kind: the media type it is stored and served with, the extensions its file
    name may carry, and how a message names it."""

    media_type: str
    extensions: tuple[str, ...]
    label: str


OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
KINDS = {
    "pdf": Kind("application/pdf", (".pdf",), "a PDF document"),
    "png": Kind("image/png", (".png",), "a PNG image"),
    "jpeg": Kind("image/jpeg", (".jpg", ".jpeg"), "a JPEG image"),
    "docx": Kind(OOXML + "wordprocessingml.document", (".docx",), "a Word document"),
    "xlsx": Kind(OOXML + "spreadsheetml.sheet", (".xlsx",), "an Excel workbook"),
    "pptx": Kind(OOXML + "presentationml.presentation", (".pptx",), "a PowerPoint presentation"),
    "odt": Kind(ODF + "text", (".odt",), "an OpenDocument text"),
    "ods": Kind(ODF + "spreadsheet", (".ods",), "an OpenDocument spreadsheet"),
    "odp": Kind(ODF + "presentation", (".odp",), "an OpenDocument presentation"),
    "text": Kind("text/plain; charset=utf-8", (".txt", ".csv"), "a text or CSV file"),
}
EXTENSIONS = tuple(e for kind in KINDS.values() for e in kind.extensions)
MEDIA_TYPES = frozenset(kind.media_type for kind in KINDS.values())

# The main part's content type in [Content_Types].xml: what an Office file really is.  The
# macro-enabled variants (.docm, .xlsm, .pptm) have other types, so they are never taken for these.
_OOXML_MAIN = {
    OOXML + "wordprocessingml.document.main+xml": "docx",
    OOXML + "spreadsheetml.sheet.main+xml": "xlsx",
    OOXML + "presentationml.presentation.main+xml": "pptx",
}
_ODF_MIMETYPES = {(ODF + name).encode(): name for name in ("text", "spreadsheet", "presentation")}
_ODF_KINDS = {"text": "odt", "spreadsheet": "ods", "presentation": "odp"}
# Markup a browser would render or run if it ever sniffed the file (it should not: downloads are
# attachments with nosniff), and that no accepted kind starts with.
_MARKUP = re.compile(rb"<\s*(?:html|head|body|script|svg|iframe|object|embed|!doctype|\?xml)\b",
                     re.IGNORECASE)
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|Launch|RichMedia)(?![A-Za-z0-9])")
_PDF_ACTIVE_NAMES = frozenset({"/JS", "/JavaScript", "/Launch", "/RichMedia"})
_PDF_WALK_LIMIT = 20_000   # objects looked at; past that the raw scan above has to do
_OFFICE_ACTIVE = re.compile(r"(?:^|/)(?:vbaProject\.bin|vbaData\.xml|activeX/|Basic/|Scripts/)",
                            re.IGNORECASE)
_CONTENT_TYPES_MAX = 1024 * 1024


class Refused(Exception):
    """A file that claims an accepted kind but is not one: its ``problem`` (``evidence.damaged``
    or ``evidence.active_content``) says what was found, without the file's name."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _damaged(message: str) -> Refused:
    return Refused(Problem("evidence.damaged", message))


def _active(message: str) -> Refused:
    return Refused(Problem("evidence.active_content", message))


def has_markup(data: bytes) -> bool:
    """HTML, SVG or XML in the first kilobyte, or text that opens with a tag."""
    head = data[:1024]
    return bool(_MARKUP.search(head)) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def identify(data: bytes) -> str | None:
    """The kind (a key of :data:`KINDS`) the content says it is, or ``None``.  Only the first
    bytes and, for archives, the list of members are looked at; :func:`verify` checks the rest."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _archive_kind(data)
    if _is_text(data):
        return "text"
    return None


def _archive_kind(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if "[Content_Types].xml" in names:
            return _OOXML_MAIN.get(_main_content_type(archive))
        if "mimetype" in names and data[30:38] == b"mimetype":   # ODF: the first member, stored
            info = archive.getinfo("mimetype")
            if info.file_size > 100:   # a media type, not a payload
                return None
            return _ODF_KINDS.get(_ODF_MIMETYPES.get(archive.read(info).strip(), ""))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, zlib.error):
        return None
    return None


def _main_content_type(archive: zipfile.ZipFile) -> str | None:
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > _CONTENT_TYPES_MAX:   # a small XML file in any real document
        return None
    text = archive.read(info).decode("utf-8", "replace")
    for found in re.finditer(r'ContentType="([^"]+)"', text):
        if found.group(1) in _OOXML_MAIN:
            return found.group(1)
    return None


def _is_text(data: bytes) -> bool:
    if not data or b"\x00" in data[:8192]:
        return False
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 65530   # a multi-byte character cut at the sample's end
    return True


def verify(kind: str, data: bytes) -> None:
    """Parse the file as ``kind``; raise :class:`Refused` when it does not hold together or holds
    something active (PDF scripts, Office macros)."""
    if kind in ("pdf", "text") and has_markup(data):
        raise _active("the file holds web-page, SVG or XML markup "
                      "that a browser could run; save the document as PDF and upload that")
    check = {"pdf": _verify_pdf, "png": _verify_png, "jpeg": _verify_jpeg}.get(kind)
    if check is not None:
        check(data)
    elif kind in _ODF_KINDS.values() or kind in _OOXML_MAIN.values():
        _verify_archive(data)


def _verify_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    if _PDF_ACTIVE.search(data):
        raise _pdf_script()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = len(reader.pages)
    except Exception as exc:   # any failure of the parser on foreign bytes means "does not open"
        raise _damaged(f"the file starts like a PDF but does not open as one "
                       f"({type(exc).__name__}); save it again as PDF and upload that") from None
    if pages < 1:
        raise _damaged("the PDF has no pages; save it again as PDF and upload that")
    if _pdf_is_active(reader):
        raise _pdf_script()


def _pdf_script() -> Refused:
    return _active("the PDF carries a script or an action that starts "
                   "a program; print it to a new PDF and upload that")


def _pdf_is_active(reader) -> bool:
    """A script or launch action anywhere in the object graph, however its names are spelled
    (``/J#61vaScript``) or packed (object streams): pypdf decodes both.  Streams' contents are
    never decompressed; only their dictionaries are looked at."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    todo = [reader.trailer]
    while todo and len(seen) < _PDF_WALK_LIMIT:
        node = todo.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            try:
                node = node.get_object()
            except Exception:   # a dangling reference: nothing there to run
                continue
        if isinstance(node, DictionaryObject):
            if _PDF_ACTIVE_NAMES & set(node.keys()) or node.get("/S") in _PDF_ACTIVE_NAMES:
                return True
            todo.extend(node.values())
        elif isinstance(node, ArrayObject):
            todo.extend(node)
    return False


def _verify_png(data: bytes) -> None:
    """Every chunk's length and CRC, IHDR first and IEND last, nothing after it."""
    at, first, last = 8, None, None
    while at < len(data):
        if at + 12 > len(data):
            break
        length, name = struct.unpack(">I4s", data[at:at + 8])
        end = at + 12 + length
        crc = data[end - 4:end] if end <= len(data) else b""
        if end > len(data) or struct.unpack(">I", crc)[0] != zlib.crc32(data[at + 4:end - 4]):
            break
        first, last, at = first or name, name, end
        if name == b"IEND":
            break
    if first != b"IHDR" or last != b"IEND" or at != len(data):
        raise _damaged("the file starts like a PNG image but its structure is "
                       "broken or cut short; export the image again and upload that")


def _verify_jpeg(data: bytes) -> None:
    """The marker segments up to the image data, and the end-of-image marker at the end."""
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:          # fill byte
            at += 1
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if length < 2:
            break
        at += 2 + length
        if marker == 0xDA:          # start of scan: the image data follows
            if data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9") and at <= len(data):
                return
            break
    raise _damaged("the file starts like a JPEG image but its structure is "
                   "broken or cut short; export the image again and upload that")


def _verify_archive(data: bytes) -> None:
    """An Office or OpenDocument file: a readable archive without macros or ActiveX controls.
    The members are not unpacked (a small archive can unpack to gigabytes)."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _damaged("the office document does not open; save it again and upload "
                       "that") from None
    if any(_OFFICE_ACTIVE.search(name) for name in names):
        raise _active("the document carries macros or controls that "
                      "run code; save it as a document without macros (.docx, .xlsx, .pptx) "
                      "or as PDF")
