"""Reading bank XML as a stream of parse events, with the XML features that are attack surfaces turned off.

A bank file never needs a DTD, so any ``<!DOCTYPE`` is refused outright: that closes external entities (XXE, which
reads local files or reaches the network) and entity expansion (billion laughs) in one rule, before either can run.
Parsing is incremental: blocks are fed as they arrive and the caller clears what it has read, so memory does not
grow with the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import iterparse

from receivables.banking.statement import BankFileError

# Messages expat gives when the input stops before the document does.
_TRUNCATION_HINTS = ("no element found", "unclosed token")


def iter_xml_events(blocks: Iterable[bytes], what: str) -> Iterator[tuple[str, Element]]:
    """``("start" | "end", element)`` pairs; ``what`` names the format in error messages (e.g. ``"camt"``).

    Every parse failure is a :class:`BankFileError` that says where and why.
    """
    events = iterparse(
        _BlockReader(blocks), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        yield from events
    except DTDForbidden as err:
        raise BankFileError(
            f"{what}: the file declares a document type (<!DOCTYPE {err.name}>); DTDs are refused because they "
            "carry entity declarations (external entities / XXE, entity expansion), and bank files never need one"
        ) from None
    except DefusedXmlException as err:
        raise BankFileError(f"{what}: unsafe XML construct refused: {err}") from None
    except ParseError as err:
        line, column = err.position
        reason = str(err).split(": line ", 1)[0]
        hint = " (the file looks truncated)" if reason.startswith(_TRUNCATION_HINTS) else ""
        raise BankFileError(f"{what}: not well-formed XML at line {line}, column {column}: {reason}{hint}") from None


class _BlockReader:
    """The ``read()`` face ``iterparse`` needs over an iterable of byte blocks, holding one block at a time.

    ``iterparse`` feeds whatever ``read`` returns, so a block is handed over whole (no re-slicing copies); only an
    empty result means end of input, hence empty blocks are skipped.
    """

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks = iter(blocks)

    def read(self, size: int = -1) -> bytes:
        for block in self._blocks:
            if block:
                return bytes(block)
        return b""


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


def iter_local_events(blocks: Iterable[bytes], what: str) -> Iterator[tuple[str, Element, str, list[Element]]]:
    """``(event, element, namespace, stack)`` with every tag reduced to its local name: ISO 20022 fields are matched
    by local name whatever the version's namespace, so the namespace is read once (to recognise the message) and
    dropped — every later lookup is a plain, fast path. ``stack`` holds the open elements, ``element`` included on
    "start" and already removed on "end"."""
    stack: list[Element] = []
    for event, element in iter_xml_events(blocks, what):
        if event == "start":
            namespace, element.tag = split_tag(element.tag)
            stack.append(element)
            yield event, element, namespace, stack
        else:
            stack.pop()
            yield event, element, "", stack


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
