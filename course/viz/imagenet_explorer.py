"""The ImageNet class explorer: search a class, see its WordNet path and siblings; browse the
hierarchy from ``entity`` down with the number of classes under each node.

    from course.viz.imagenet_explorer import ImageNetExplorer
    ImageNetExplorer().widget
"""

from __future__ import annotations

import html

import ipywidgets as w

from course.data.imagenet import (
    ROOT_SYNSET,
    children,
    load_imagenet_classes,
    load_synsets,
    search_classes,
    siblings,
)
from course.viz.explorer import fixed, wrapped

TITLES = ("search a class", "browse the tree")  # short: a tab shows about 16 characters


class ImageNetExplorer:
    def __init__(self, query: str = "panda", node: str = ROOT_SYNSET):
        self.synsets = load_synsets()
        self.classes = load_imagenet_classes()
        self.by_synset = {c.synset: c for c in self.classes}
        # Search
        self.query = w.Text(value=query, description="search", continuous_update=True,
                            placeholder="a class name, e.g. terrier")  # fmt: skip
        self.matches = w.Select(description="classes", rows=8, layout=w.Layout(width="420px"))
        self.details = w.HTML(layout=w.Layout(min_width="0"))
        self.query.observe(self._on_query, names="value")
        self.matches.observe(self._on_match, names="value")
        # Tree
        self.node = node
        self._updating = False
        self.breadcrumb = w.HTML(layout=w.Layout(flex="1 1 0", min_width="0"))
        self.up = w.Button(description="up", icon="arrow-up", layout=fixed("80px"))
        self.below = w.Select(description="below", rows=10, layout=w.Layout(width="520px"))
        self.up.on_click(lambda _: self.go_up())
        self.below.observe(self._on_below, names="value")
        self._on_query()
        self.show_node(node)
        search = w.VBox([self.query, self.matches, self.details])
        tree = w.VBox([w.HBox([self.up, self.breadcrumb]), self.below])
        self.widget = w.Tab(children=[search, tree])
        for index, title in enumerate(TITLES):
            self.widget.set_title(index, title)

    # --- search -----------------------------------------------------------------------------

    def _on_query(self, change=None) -> None:
        text = self.query.value.strip()
        found = search_classes(text) if text else []
        self.matches.options = [(f"{c.index:3d}  {c.name}", c.index) for c in found[:200]]
        if found:
            self.matches.value = found[0].index
        else:
            message = f"<i>No class matches {html.escape(text)!r}.</i>" if text else ""
            self.details.value = wrapped(message)

    def _on_match(self, change=None) -> None:
        if self.matches.value is None:
            return
        c = self.classes[self.matches.value]
        paths = "".join(
            "<li>" + " → ".join(html.escape(self.synsets[s].lemma) for s in path) + "</li>"
            for path in c.paths
        )
        near = ", ".join(html.escape(s.name) for s in siblings(c)[:25]) or "none"
        definition = html.escape(self.synsets[c.synset].definition)
        self.details.value = wrapped(
            f"<b>{html.escape(c.name)}</b> (index {c.index}, <code>{html.escape(c.wnid)}</code>): "
            f"{definition}<br><b>ILSVRC label:</b> {html.escape(c.synonyms)}<br>"
            f"<b>WordNet path{'s' if len(c.paths) > 1 else ''}:</b><ol>{paths}</ol>"
            f"<b>Siblings among the 1000</b> ({len(siblings(c))}): {near}"
        )

    # --- tree -------------------------------------------------------------------------------

    def show_node(self, node: str) -> None:
        """Show the synsets directly below ``node`` with their class counts."""
        self.node = node
        below = children(node)
        trail = self._trail(node)
        self.breadcrumb.value = wrapped(
            " › ".join(html.escape(self.synsets[s].lemma) for s in trail)
        )
        options = []
        for synset, count in below.items():
            is_class = synset in self.by_synset and not children_or_empty(synset)
            label = f"{self.synsets[synset].lemma} ({'class' if is_class else count})"
            options.append((label, synset))
        self._updating = True  # a new option list selects its first entry: ignore that
        try:
            self.below.options = options
            self.below.value = None
        finally:
            self._updating = False
        self.up.disabled = node == ROOT_SYNSET

    def go_up(self) -> None:
        trail = self._trail(self.node)
        if len(trail) > 1:
            self.show_node(trail[-2])

    def _on_below(self, change=None) -> None:
        chosen = self.below.value
        if chosen is None or self._updating:
            return
        if children_or_empty(chosen):
            self.show_node(chosen)
        elif chosen in self.by_synset:  # a class: show it in the search tab
            self.query.value = self.by_synset[chosen].name
            self.widget.selected_index = 0

    def _trail(self, node: str) -> list[str]:
        for c in self.classes:
            for path in c.paths:
                if node in path:
                    return list(path[: path.index(node) + 1])
        return [ROOT_SYNSET]


def children_or_empty(synset: str) -> dict[str, int]:
    try:
        return children(synset)
    except KeyError:
        return {}
