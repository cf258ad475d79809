"""Runs inside the sandboxed child: what the harness gives the candidate's code, and how a test's
plain input and output map onto it.

Shipped in the job and loaded by harness.py (so kept free of project imports, like the harness):

- linked-list questions (`job["linked"]`): the code gets a real `ListNode` class; the test's plain
  list (or list of lists) becomes a chain of `ListNode`s, and the returned head is read back as
  the list of its values, so the parent compares plain values;
- in-place questions (`job["observe_arg"]`): the value reported is [return value, the argument
  after the call], so the parent sees what the function did to the object it was given.
"""

from __future__ import annotations

from typing import Any


class ListNode:
    """A singly linked list node, given to the candidate's code."""

    __slots__ = ("val", "next")

    def __init__(self, val: Any = 0, next: ListNode | None = None) -> None:  # noqa: A002
        self.val = val
        self.next = next

    def __repr__(self) -> str:
        return f"ListNode({self.val!r})"


def names(job: dict[str, Any]) -> dict[str, Any]:
    """What the code's namespace starts with."""
    return {"ListNode": ListNode} if job.get("linked") else {}


def chain(values: list[Any], made: list[ListNode]) -> ListNode | None:
    head: ListNode | None = None
    for value in reversed(values):
        head = ListNode(value, head)
        made.append(head)
    return head


def convert(args: list[Any], job: dict[str, Any]) -> tuple[list[Any], list[ListNode]]:
    """The arguments with the linked one made into ListNodes, and every node made."""
    linked, made = job.get("linked"), list[ListNode]()
    args = list(args)
    if linked:
        value = args[linked["arg"]]
        if linked["shape"] == "chain":
            args[linked["arg"]] = chain(value, made)
        else:
            args[linked["arg"]] = [chain(values, made) for values in value]
    return args, made


def walk(head: Any, limit: int) -> list[ListNode]:
    """The nodes of the list a function returned; a TypeError or ValueError when it is not one."""
    if head is not None and not isinstance(head, ListNode):
        raise TypeError(f"return the head ListNode (or None), not {type(head).__name__}")
    nodes: list[ListNode] = []
    while head is not None:
        if len(nodes) >= limit:
            raise ValueError("the returned list does not end (a cycle?)")
        nodes.append(head)
        head = head.next
        if head is not None and not isinstance(head, ListNode):
            raise TypeError(f"a node's next is a {type(head).__name__}, not a ListNode or None")
    return nodes


def call(target: Any, args: list[Any], job: dict[str, Any]) -> Any:
    """Call a function question's entry point on one test's arguments."""
    converted, made = convert(args, job)
    result = target(*converted)
    if job.get("linked"):
        result = [node.val for node in walk(result, 2 * len(made) + 1000)]
    observed = job.get("observe_arg")
    if observed is not None:
        return [result, converted[observed]]
    return result
