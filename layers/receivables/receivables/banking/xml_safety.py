"""Reading bank XML as a stream of parse events, with the XML features that are attack surfaces turned off.

A bank file never needs a DTD, so any ``<!DOCTYPE`` is refused outright: that closes external entities (XXE, which
reads local files or reaches the network) and entity expansion (billion laughs) in one rule, before either can run.
Parsing is incremental: blocks are fed as they arrive and the caller clears what it has read, so memory does not
grow with the file; nesting depth and the text in one place are bounded too, so no input can make it grow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser

from receivables.banking.statement import BankFileError

# Messages expat gives when the input stops before the document does.
_TRUNCATION_HINTS = ("no element found", "unclosed token")
# Bounds that no bank file comes near, so that memory stays flat whatever the input: ISO 20022 messages nest about
# a dozen elements deep and their longest text is a few hundred characters.
MAX_DEPTH = 64
MAX_TEXT = 1 << 20  # characters of text in one place (between two tags)
# Bytes the parser may take in without reporting anything (a tag with its attributes, a comment, a processing
# instruction): expat holds such a token whole until it ends.
MAX_SILENT = 2 << 20
_FEED = 16 * 1024  # a block is fed in slices of this size, so events are read (and pruned) as they come


def iter_xml_events(blocks: Iterable[bytes], what: str) -> Iterator[tuple[str, Element, int]]:
    """``("start" | "end", element, line)``, ``line`` being the physical line of the element's start tag (for
    "start") or end tag (for "end"); ``what`` names the format in error messages (e.g. ``"camt"``).

    Every parse failure is a :class:`BankFileError` that says where and why.
    """
    target = _EventTarget()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    target.expat = parser.parser
    silent = 0  # bytes fed since the parser last reported an element or text
    try:
        for block in blocks:
            view = memoryview(block)
            for start in range(0, len(view), _FEED):
                piece = view[start : start + _FEED]
                parser.feed(piece)
                if target.progressed:
                    silent, target.progressed = 0, False
                else:
                    silent += len(piece)
                    if silent > MAX_SILENT:
                        raise _TooLarge(f"one tag, comment or other markup runs over {MAX_SILENT} bytes")
                yield from target.drain()
        parser.close()
        yield from target.drain()
    except DTDForbidden as err:
        raise BankFileError(
            f"{what}: the file declares a document type (<!DOCTYPE {err.name}>); DTDs are refused because they "
            "carry entity declarations (external entities / XXE, entity expansion), and bank files never need one"
        ) from None
    except DefusedXmlException as err:
        raise BankFileError(f"{what}: unsafe XML construct refused: {err}") from None
    except _TooLarge as err:
        raise BankFileError(f"{what}: {err} at line {target.expat.CurrentLineNumber}: not a bank file") from None
    except ParseError as err:
        line, column = err.position
        reason = str(err).split(": line ", 1)[0]
        hint = " (the file looks truncated)" if reason.startswith(_TRUNCATION_HINTS) else ""
        raise BankFileError(f"{what}: not well-formed XML at line {line}, column {column}: {reason}{hint}") from None
    except (LookupError, UnicodeError, ValueError) as err:
        # The XML declaration names an encoding that is unknown, not a text encoding, or multi-byte (expat reads
        # UTF-8, UTF-16 and single-byte encodings only).
        raise BankFileError(f"{what}: the encoding the XML declaration names cannot be read: {err}") from None


class _TooLarge(Exception):
    pass


class _EventTarget:
    """The parser's target: builds the tree (a standard ``TreeBuilder``) and notes each start and end with the line
    expat is on at that moment, which only the target can know (a pull parser hands events over after the fact)."""

    __slots__ = ("_builder", "_depth", "_events", "_text", "expat", "progressed")

    def __init__(self) -> None:
        self._builder = TreeBuilder()
        self._events: list[tuple[str, Element, int]] = []
        self._depth = 0
        self._text = 0
        self.expat: Any = None
        self.progressed = False  # anything reported since the caller last looked

    def drain(self) -> list[tuple[str, Element, int]]:
        events, self._events = self._events, []
        return events

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooLarge(f"elements nested more than {MAX_DEPTH} deep")
        self._text = 0
        self.progressed = True
        element = self._builder.start(tag, attrs)
        self._events.append(("start", element, self.expat.CurrentLineNumber))
        return element

    def end(self, tag: str) -> Element:
        self._depth -= 1
        self._text = 0
        self.progressed = True
        element = self._builder.end(tag)
        self._events.append(("end", element, self.expat.CurrentLineNumber))
        return element

    def data(self, text: str) -> None:
        self.progressed = True
        self._text += len(text)
        if self._text > MAX_TEXT:
            raise _TooLarge(f"more than {MAX_TEXT} characters of text in one element")
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


def split_tag(tag: str) -> tuple[str, str]:
    """``'{urn:...}Ntry'`` → ``('urn:...', 'Ntry')``: ISO 20022 readers dispatch on the namespace and match on the
    local name."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def element_text(element: Element, path: str) -> str | None:
    """The stripped text at ``path`` under ``element``; None when absent or blank."""
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def iter_local_events(blocks: Iterable[bytes], what: str) -> Iterator[tuple[str, Element, str, list[Element], int]]:
    """``(event, element, namespace, stack, line)`` with every tag reduced to its local name: ISO 20022 fields are
    matched by local name whatever the version's namespace, so the namespace is read once (to recognise the message)
    and dropped — every later lookup is a plain, fast path. ``stack`` holds the open elements, ``element`` included
    on "start" and already removed on "end"; ``line`` is where the tag is (see :func:`iter_xml_events`)."""
    stack: list[Element] = []
    for event, element, line in iter_xml_events(blocks, what):
        if event == "start":
            namespace, element.tag = split_tag(element.tag)
            stack.append(element)
            yield event, element, namespace, stack, line
        else:
            stack.pop()
            yield event, element, "", stack, line


class OneMessageDocument:
    """What every ISO 20022 reader tracks while it streams: the ``Document`` holds exactly one message (its first
    child, opened by :meth:`_open_message`); envelope parts around it and elements already read are pruned, so
    memory stays flat. Subclasses set ``what`` (for errors) and ``one_message`` (the rule a second message breaks).
    """

    what = "xml"
    one_message = "a file holds one message"

    def __init__(self) -> None:
        self._root: str | None = None
        self._message: Element | None = None
        self._message_depth = 0
        self._message_closed = False

    def _open_message(self, element: Element, namespace: str) -> None:
        raise NotImplementedError

    def _track_start(self, element: Element, namespace: str, stack: list[Element]) -> bool:
        """Handle the root and the Document's children; True when ``element`` was one of them."""
        depth = len(stack)
        if depth == 1:
            self._root = element.tag
        if depth < 2 or stack[-2].tag != "Document":
            return False
        if self._message is not None and self._message_closed:
            raise BankFileError(f"{self.what}: more than one message in one file; {self.one_message}")
        if self._message is None:
            self._open_message(element, namespace)
            self._message = element
            self._message_depth = depth
        return True

    def _inside_message(self, depth: int) -> bool:
        """Whether an element whose parent sits at ``depth`` belongs to the (open) message."""
        return self._message is not None and not self._message_closed and depth >= self._message_depth

    def _pruned_outside(self, element: Element, stack: list[Element]) -> bool:
        """At an element's end: True (and the element dropped) when it is not inside the open message — envelope
        parts such as a business application header, or the message itself once done."""
        if self._inside_message(len(stack)):
            return False
        if element is self._message:
            self._message_closed = True
        if stack:
            stack[-1].remove(element)
        return True
