"""The YAML loader content files are read with: safe, bounded, and plain.

Content never needs anchors or aliases, and they are what makes hostile YAML expensive
(a self-referencing list, billion-laughs), so a document that uses one is refused before it is
composed. Nesting depth and integer length are bounded the same way, so that no file can make
the loader recurse out of the stack or spend quadratic time on a number.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_FILE_BYTES = 512 * 1024  # the largest shipped file is about 20 KB
MAX_DEPTH = 32  # content nests about 6 levels deep
MAX_INT_DIGITS = 100
INT_TAG = "tag:yaml.org,2002:int"

# libyaml when PyYAML was built with it (its wheels are): the same results, several times faster.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LimitError(yaml.MarkedYAMLError):
    """A document that breaks one of the loader's limits, with the place where it does."""

    def __init__(self, problem: str, mark: Any) -> None:  # libyaml's Mark or PyYAML's
        super().__init__(problem=problem, problem_mark=mark)


class ContentLoader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader that turns a bad value (an impossible date, ...) into an error at its node."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as error:
            raise LimitError(f"cannot read this value: {error}", node.start_mark) from None


def _bounded_int(loader: ContentLoader, node: yaml.ScalarNode) -> Any:
    digits = sum(c.isdigit() for c in str(node.value))
    if digits > MAX_INT_DIGITS:
        raise LimitError(
            f"integer with {digits} digits (at most {MAX_INT_DIGITS})", node.start_mark
        )
    return yaml.SafeLoader.construct_yaml_int(loader, node)


ContentLoader.add_constructor(INT_TAG, _bounded_int)


def check_shape(text: str) -> None:
    """Raise LimitError at the first anchor, alias or nesting beyond MAX_DEPTH.

    Runs over the parser's events only, which needs no recursion however deep the text nests.
    """
    parser = ContentLoader(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise LimitError(_NO_REFERENCES.format(f"alias *{event.anchor}"), event.start_mark)
            if getattr(event, "anchor", None) is not None:
                raise LimitError(_NO_REFERENCES.format(f"anchor &{event.anchor}"), event.start_mark)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise LimitError(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        parser.dispose()


_NO_REFERENCES = "{}: content files do not use anchors or aliases; write the value out"


def load(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the data of one YAML document, within the limits; raises YAMLError."""
    check_shape(text)
    loader = ContentLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()
