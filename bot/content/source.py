"""Line-aware YAML and front-matter parsing: every value keeps the line it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.content import loader
from bot.errors import ContentIssue


@dataclass
class Parsed:
    """A parsed YAML document together with its node tree, for locating errors."""

    path: str
    data: Any
    node: yaml.Node | None
    line_offset: int = 0

    def duplicate_keys(self) -> list[ContentIssue]:
        """PyYAML keeps the last of repeated keys silently; content must not."""
        found: list[ContentIssue] = []
        stack = [self.node] if self.node is not None else []
        walked: set[int] = set()  # a node reached twice (through an alias) is walked once
        while stack:
            node = stack.pop()
            if id(node) in walked:
                continue
            walked.add(id(node))
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    name = str(getattr(key, "value", ""))
                    if name in seen:
                        line = key.start_mark.line + 1 + self.line_offset
                        found.append(ContentIssue(self.path, line, name, "duplicate key"))
                    seen.add(name)
                    stack.append(value)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
        return found

    def line_of(self, loc: tuple[int | str, ...]) -> int:
        """The 1-based line of the value at `loc`, or of its nearest existing parent."""
        node, line = self.node, 1
        for part in loc:
            if node is None:
                break
            line = node.start_mark.line + 1
            node, key_line = _child(node, part)
            if key_line is not None:
                line = key_line
        if node is not None and not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1
        return line + self.line_offset

    def issue(self, loc: tuple[int | str, ...], message: str) -> ContentIssue:
        return ContentIssue(self.path, self.line_of(loc), _field(loc), message)

    def issues_from(self, err: ValidationError) -> list[ContentIssue]:
        return [self.issue(tuple(e["loc"]), _message(e)) for e in err.errors()]


def _child(node: yaml.Node, part: int | str) -> tuple[yaml.Node | None, int | None]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == str(part):
                return value, key.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], None
    return None, None


def _field(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _message(error: Any) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    return str(msg).removeprefix("Value error, ")


def parse_yaml(text: str, path: str, *, line_offset: int = 0) -> Parsed | ContentIssue:
    """Parse one YAML document; a syntax error becomes an issue with its line."""
    try:
        node, data = loader.load(text)
    except loader.LimitError as err:
        return ContentIssue(path, _line(err, line_offset), "(yaml)", str(err.problem))
    except yaml.MarkedYAMLError as err:
        line = _line(err, line_offset)
        return ContentIssue(path, line, "(yaml)", f"YAML syntax error: {err.problem or err}")
    except yaml.YAMLError as err:
        return ContentIssue(path, 1 + line_offset, "(yaml)", f"YAML error: {err}")
    return Parsed(path, data, node, line_offset)


def _line(err: yaml.MarkedYAMLError, line_offset: int) -> int:
    mark = err.problem_mark or err.context_mark
    return (mark.line + 1 if mark else 1) + line_offset


def read_text(file: Path, display: str) -> str | ContentIssue:
    """A content file's text (a UTF-8 byte-order mark dropped), or why it cannot be had."""
    try:
        with file.open("rb") as stream:
            raw = stream.read(loader.MAX_FILE_BYTES + 1)
        if len(raw) > loader.MAX_FILE_BYTES:
            limit = f"larger than {loader.MAX_FILE_BYTES // 1024} KiB"
            return ContentIssue(display, 1, "(file)", f"{limit}: content files are small")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return ContentIssue(display, 1, "(file)", f"not UTF-8 text: {err.reason}")
    except OSError as err:
        return ContentIssue(display, 1, "(file)", f"cannot read: {err.strerror}")


def split_front_matter(text: str, path: str) -> tuple[Parsed, str, int] | ContentIssue:
    """Split a Markdown file into parsed front matter, body and the body's first line number."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return ContentIssue(path, 1, "(front matter)", "missing front matter: start with '---'")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            parsed = parse_yaml("".join(lines[1:end]), path, line_offset=1)
            if isinstance(parsed, ContentIssue):
                return parsed
            return parsed, "".join(lines[end + 1 :]), end + 2
    return ContentIssue(path, 1, "(front matter)", "front matter is not closed with '---'")
