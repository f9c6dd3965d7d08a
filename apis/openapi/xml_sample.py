"""XML samples for `application/xml`, `text/xml` and `+xml` bodies, as OpenAPI's `xml` object
says to write them: an element's `name`, `prefix` and `namespace`, a property that is an
`attribute`, an array `wrapped` in an element of its own (OpenAPI 3.1 §4.8.26; 3.2's
`nodeType` of `attribute` and `text` too).

The value comes from apis.openapi.sample (examples first, then generated, read-only and
write-only fields left out as the direction says); this walks the schema beside it to name
the elements. Text and attributes are escaped here; the page escapes the whole once more,
as it shows the XML as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

import orjson

from apis.openapi.sample import sample

_MAX_CHARS = 20_000
_MAX_DEPTH = 24  # elements and `$ref` hops, a bound on cycles the value cannot have
_NOT_NAME = re.compile(r"[^\w.\-:]")
_PREFIX = "#/components/schemas/"


def is_xml(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base in ("application/xml", "text/xml") or base.endswith("+xml")


def xml_sample(
    schema: Any, document: Mapping[str, Any], max_depth: int, *, request: bool = False
) -> str:
    """A sample of `schema` written as XML, or "" when there is nothing to write."""
    value = sample(schema, document, max_depth, request=request)  # type: ignore[arg-type]
    return xml_text(schema, document, value)


def xml_text(schema: Any, document: Mapping[str, Any], value: Any) -> str:
    """`value` (data that fits `schema`) written as XML. The root element is named by the
    schema's `xml.name`, else the name of the component it refers to, else `root`."""
    if value is None and not isinstance(schema, dict):
        return ""
    writer = _Writer(document)
    resolved, xml, ref_name = writer.resolve(schema)
    name = _text(xml.get("name")) or ref_name or "root"
    writer.element(name, resolved, xml, value, 0)
    text = "\n".join(writer.lines)
    return text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS] + "\n…"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _name(name: str, xml: Mapping[str, Any]) -> str:
    """An element or attribute name, with its prefix; characters no XML name may hold
    (a property named `a b`) become `_`."""
    name = _NOT_NAME.sub("_", name) or "_"
    if name[0].isdigit() or name[0] in ".-":
        name = "_" + name
    prefix = _NOT_NAME.sub("_", _text(xml.get("prefix")))
    return f"{prefix}:{name}" if prefix else name


def _quoted(value: str) -> str:
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _xmlns(xml: Mapping[str, Any]) -> list[str]:
    """The namespace declaration an element with `xml.namespace` carries, if any."""
    namespace = _text(xml.get("namespace"))
    if not namespace:
        return []
    prefix = _NOT_NAME.sub("_", _text(xml.get("prefix")))
    return [f"xmlns{':' + prefix if prefix else ''}={_quoted(namespace)}"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):  # an object where the schema says a scalar
        return orjson.dumps(value).decode()
    return str(value)


class _Writer:
    def __init__(self, document: Mapping[str, Any]) -> None:
        components = document.get("components")
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        self.schemas: Any = schemas if isinstance(schemas, Mapping) else {}
        self.lines: list[str] = []
        self.size = 0

    def resolve(self, schema: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(schema with `$ref`s followed, its `xml` object, the component's name): the
        referring schema's `xml` wins over the target's, key by key."""
        xml: dict[str, Any] = {}
        name = ""
        for _ in range(8):
            if not isinstance(schema, dict):
                return {}, xml, name
            own = schema.get("xml")
            if isinstance(own, dict):
                xml = {**own, **xml}
            ref = schema.get("$ref")
            if not (isinstance(ref, str) and ref.startswith(_PREFIX)):
                break
            target = ref[len(_PREFIX) :].replace("~1", "/").replace("~0", "~")
            name, schema = name or target, self.schemas.get(target)
        return (schema if isinstance(schema, dict) else {}), xml, name

    def properties(
        self, schema: dict[str, Any], depth: int, read: set[int] | None = None
    ) -> dict[str, Any]:
        """The object's properties, with those of its `allOf` parts and first `oneOf` or
        `anyOf` option (what the sample was made of). A part met again (`read`, by identity:
        the document's own nodes) adds nothing: levels of `allOf: [$ref X, $ref X]` were
        read 2**depth times."""
        found: dict[str, Any] = {}
        if depth > _MAX_DEPTH:
            return found
        read = set() if read is None else read
        own = schema.get("properties")
        for key in ("allOf", "oneOf", "anyOf"):
            parts = schema.get(key)
            parts = parts if isinstance(parts, list) else []
            for part in parts if key == "allOf" else parts[:1]:
                resolved, _, _ = self.resolve(part)
                if id(resolved) in read:
                    continue
                read.add(id(resolved))
                found.update(self.properties(resolved, depth + 1, read))
        if isinstance(own, dict):
            found.update(own)
        return found

    def emit(self, line: str) -> None:
        self.size += len(line)
        if self.size <= _MAX_CHARS:
            self.lines.append(line)

    def element(
        self, name: str, schema: dict[str, Any], xml: Mapping[str, Any], value: Any, depth: int
    ) -> None:
        if self.size > _MAX_CHARS:
            return  # the text is cut here: nothing more is kept (a shared sample may be huge)
        indent = "  " * depth
        tag = _name(name, xml)
        attrs = _xmlns(xml)
        if isinstance(value, list):  # an array at the top or inside another array
            self._array(name, schema, xml, value, depth, wrapped=True)
            return
        if not isinstance(value, dict) or depth > _MAX_DEPTH or self.size > _MAX_CHARS:
            text = escape(_scalar(value))
            opening = " ".join([tag, *attrs])
            self.emit(f"{indent}<{opening}>{text}</{tag}>" if text else f"{indent}<{opening}/>")
            return
        props = self.properties(schema, 0)
        additional = schema.get("additionalProperties")
        children: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
        text_content: str | None = None
        for key, item in value.items():
            sub = props.get(key, additional if isinstance(additional, dict) else {})
            resolved, sub_xml, _ = self.resolve(sub)
            node = sub_xml.get("nodeType")
            child_name = _text(sub_xml.get("name")) or str(key)
            if (sub_xml.get("attribute") is True or node == "attribute") and not isinstance(
                item, dict | list
            ):
                attrs.append(f"{_name(child_name, sub_xml)}={_quoted(_scalar(item))}")
            elif node == "text" and not isinstance(item, dict | list):
                text_content = _scalar(item)
            else:
                children.append((child_name, resolved, sub_xml, item))
        opening = " ".join([tag, *attrs])
        if text_content is not None and not children:
            self.emit(f"{indent}<{opening}>{escape(text_content)}</{tag}>")
            return
        if not children:
            self.emit(f"{indent}<{opening}/>")
            return
        self.emit(f"{indent}<{opening}>")
        for child_name, resolved, sub_xml, item in children:
            if isinstance(item, list):
                self._array(child_name, resolved, sub_xml, item, depth + 1, wrapped=False)
            else:
                self.element(child_name, resolved, sub_xml, item, depth + 1)
        self.emit(f"{indent}</{tag}>")

    def _array(
        self,
        name: str,
        schema: dict[str, Any],
        xml: Mapping[str, Any],
        value: list[Any],
        depth: int,
        *,
        wrapped: bool,
    ) -> None:
        """An array's items, each an element named by the items' `xml.name`, else the
        array's name; in an element of the array's name when `wrapped` (always at the
        top, where XML needs one root, and there items with no name of their own are
        named for the component they refer to: `<root><Pet>…`, not `<root><root>…`)."""
        if self.size > _MAX_CHARS:
            return
        items, item_xml, component = self.resolve(schema.get("items"))
        item_name = _text(item_xml.get("name")) or (component if wrapped else "") or name
        if wrapped or xml.get("wrapped") is True:
            tag = _name(name, xml)
            ns = "".join(" " + a for a in _xmlns(xml))
            indent = "  " * depth
            if not value:
                self.emit(f"{indent}<{tag}{ns}/>")
                return
            self.emit(f"{indent}<{tag}{ns}>")
            for item in value:
                self.element(item_name, items, item_xml, item, depth + 1)
            self.emit(f"{indent}</{tag}>")
            return
        for item in value:
            self.element(item_name, items, item_xml, item, depth)
