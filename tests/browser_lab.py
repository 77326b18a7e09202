"""Helpers for tests/test_browser.py: JupyterLab and headless Chromium, started and stopped by
PID, and the checks made on a notebook's widgets in a real browser.

- ``widget_cells`` finds the widgets a notebook has by the cells' content (code ending in
  ``<name>.widget``), so a new notebook with widgets is picked up, and
  cells may move, without editing the tests.
- ``lab_server`` serves a temporary copy of ``notebooks/`` (outputs stripped, so every widget
  seen comes from the live kernel) on 127.0.0.1 with a random token.
- ``chromium`` starts Debian's Chromium itself (so its PID is known) and connects Playwright to
  it over the DevTools protocol; Playwright never downloads a browser.
- ``LabPage`` opens a notebook (in a ``LabTab``, JupyterLab loaded once for several notebooks),
  runs its cells, and checks errors, rendering and reactions.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STDERR_MIME = "application/vnd.jupyter.stderr"
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]  # fmt: skip
# What JupyterLab shows instead of a widget when the widget manager cannot render it.
NOT_RENDERED = ("Loading widget", "Error displaying widget", "model not found")
RUN_TIMEOUT_S = 300  # running all cells of one notebook in fast mode
RENDER_TIMEOUT_S = 30  # a widget view appearing after its cell ran
REACT_TIMEOUT_S = 15  # the widget's display changing after a control moved
MAX_CONTROLS_TRIED = 5  # per widget, before declaring that nothing reacts


# --- which notebooks have widgets ------------------------------------------------------------

# A cell that shows a widget ends with an expression ``<name>.widget`` (the course's explorers)
# or with ``display(<name>...)``; its name is what screenshots are called by.
_SHOWS_WIDGET = re.compile(r"^(?:display\()?([A-Za-z_]\w*)(?:\.\w+)*\.widget\)?\s*$")


@dataclass(frozen=True)
class WidgetCell:
    index: int  # the cell's index in its notebook, as found when the test runs
    views: int  # widget views it shows
    name: str  # the variable it shows (or "cell<index>"), stable while cells move around


def widget_cells(notebook: Path) -> list[WidgetCell]:
    """The cells that show widgets, found by their content: the last line of the cell's code is
    ``<name>.widget`` or ``display(<name>.widget)`` (a training cell's progress bar is a widget
    too, but not one to test). No cell number is written down anywhere, so cells may be added or
    moved without editing the tests."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    found, names = [], set()
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        shows = _SHOWS_WIDGET.match(lines[-1].strip()) if lines else None
        views = sum(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))
        if shows:
            name = shows.group(1)
            name = name if name not in names else f"{name}-cell{index}"
            names.add(name)
            found.append(WidgetCell(index, max(views, 1), name))
    return found


def _names(source: str) -> tuple[set[str], set[str], set[str], set[str]] | None:
    """What a cell's code does with names: those it binds (assigns, defines, imports, names
    after ``as``), those it reads, and of its bindings the imports and the functions and classes
    it defines; None if the code is not plain Python (a magic): such a cell always runs."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    bound, read, imports, defined = set(), set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            read.add(node.target.id)  # x += 1 reads x too
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            defined.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.alias):  # import a.b as c: c; import a.b: a
            name = node.asname or node.name.split(".")[0]
            bound.add(name)
            imports.add(name)
    return bound, read, imports, defined


def cells_needed(notebook: Path, through: int) -> list[int]:
    """The code cells up to ``through`` that cell ``through`` needs, found by the names in the
    code. A cell is needed if it binds a name that a needed cell takes from other cells, or
    uses one (``records.append(...)``, ``fit(model, ...)``, calling a function that a needed
    cell defines); reading an imported module does not count (``plt.show()``). Repeated until
    nothing changes, so a cell that changes a model after the widget's cell took it is found
    too. What is left out cannot touch the widget's names; it may still draw random numbers, so
    the widget's numbers can differ from a full run's (what is checked is that it renders and
    reacts). A cell that is not plain Python always runs."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    names = {
        index: _names(
            cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        )
        for index, cell in enumerate(cells[: through + 1])
        if cell["cell_type"] == "code"
    }
    imports = set().union(*(found[2] for found in names.values() if found is not None))
    needed = {index for index, found in names.items() if index == through or found is None}

    # What a needed cell wants from other cells: what it reads and does not bind itself (a loop
    # variable is its own; print is no cell's), and the functions it defines (their callers
    # change what they touch).
    in_cells = set().union(*(found[0] for found in names.values() if found is not None))

    def wants(found):
        bound, read, _, defined = found
        return ((read - bound) & in_cells) | defined

    wanted = set().union(*(wants(names[index]) for index in needed if names[index] is not None))
    changed = True
    while changed:
        changed = False
        for index, found in names.items():
            if index in needed:
                continue
            bound, read, _, _ = found
            if (bound | (read - imports)) & wanted:
                needed.add(index)
                wanted |= wants(found)
                changed = True
    return sorted(needed)


def widget_notebooks(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` with widgets. One that is not valid JSON (being written
    right now) is left out here; its own nbval test reports it."""
    found = []
    for notebook in sorted(Path(folder).glob("*.ipynb")):
        with contextlib.suppress(ValueError, KeyError):
            if widget_cells(notebook):
                found.append(notebook)
    return found


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package playwright is missing: pip install playwright (no browser download)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is missing at {CHROMIUM}: apt-get install chromium"
    return None


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen, grace_s: float = 10) -> None:
    """Stop a process started with start_new_session=True: SIGTERM to its process group
    (the group id is its PID), then SIGKILL when it does not exit within grace_s."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait_s)
    with contextlib.suppress(ProcessLookupError):  # leftover children of the group
        os.killpg(process.pid, signal.SIGKILL)


def copy_notebooks(source: Path, target: Path) -> Path:
    """Copy the notebooks with outputs and saved widget state stripped: a widget seen in the
    browser must then come from the kernel, not from what the notebook file stored. Checkpoints
    in ``runs/`` stay behind: a notebook's training starts afresh, not from an earlier run's."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "runs"))
    for path in target.glob("*.ipynb"):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # being written right now: not one of those tested here
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        notebook["metadata"].pop("widgets", None)
        path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return target


@dataclass
class LabServer:
    url: str
    token: str
    process: subprocess.Popen
    log: Path
    root: Path  # the folder it serves: a notebook written there can be opened

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:  # 127.0.0.1 only
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")


@contextlib.contextmanager
def lab_server(root: Path, work: Path, env: dict[str, str]) -> Iterator[LabServer]:
    """JupyterLab serving ``root`` on 127.0.0.1 with a random token; Jupyter's config, runtime
    and data folders and Lab's settings live in ``work``. Stopped by PID on exit."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(env)
    for name in ("config", "runtime", "data"):  # keep the user's Jupyter folders untouched
        env[f"JUPYTER_{name.upper()}_DIR"] = str(work / name)
    settings = work / "settings"
    # Every cell stays in the DOM (no virtual scrolling), so each can be found and checked.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # No "get notified about news?" pop-up over the screenshots (and nothing fetched).
    notes = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notes.parent.mkdir(parents=True)
    notes.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={work / 'workspaces'}", "--expose-app-in-browser",
    ]  # fmt: skip
    log = work / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=root, start_new_session=True)  # fmt: skip
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log, Path(root))
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                server.api("GET", "status")
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"JupyterLab did not answer in 120 s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            server.api("POST", "shutdown")  # also shuts down the kernels
            process.wait(15)
        stop_process(process)


@contextlib.contextmanager
def chromium(work: Path):
    """Headless Chromium started by PID, with Playwright connected to it. Yields the browser."""
    from playwright.sync_api import sync_playwright

    profile = work / "chromium-profile"
    profile.mkdir(parents=True)
    log = work / "chromium.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    playwright = browser = None
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        playwright = sync_playwright().start()
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        yield browser
    finally:
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()
        if playwright is not None:
            playwright.stop()
        stop_process(process)


# --- one notebook in the browser --------------------------------------------------------------

_OPEN = """async (path) => {
  const app = window.jupyterapp;
  await app.started;
  await app.restored;
  const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  window.coursePanel = panel;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel ? kernel.name : null;
}"""

# Closes the notebook (dispose: no question about saving it) and answers how many of the
# cells _CELLS marked are still in the page: none, or the next notebook's checks could find them.
_CLOSE = """() => {
  const panel = window.coursePanel;
  window.coursePanel = undefined;
  if (panel) panel.dispose();
  return document.querySelectorAll('[data-course-cell]').length;
}"""

# Runs every cell, or only the cells listed (selected, then run in order as JupyterLab's "Run
# Selected Cell and Do not Advance" does).
_RUN_ALL = """async ([timeoutMs, indices]) => {
  const app = window.jupyterapp;
  const notebook = window.coursePanel.content;
  app.shell.activateById(window.coursePanel.id);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  let command = 'notebook:run-all-cells';
  if (indices !== null) {
    notebook.activeCellIndex = indices[0];
    notebook.deselectAll();
    for (const index of indices) notebook.select(notebook.widgets[index]);
    command = 'notebook:run-cell';
  }
  return await Promise.race([app.commands.execute(command), timeout]);
}"""

# Marks every cell's node with its index and reports each code cell's execution and errors.
_CELLS = """() => window.coursePanel.content.widgets.map((cell, index) => {
  cell.node.setAttribute('data-course-cell', String(index));
  if (cell.model.type !== 'code') return null;
  const outputs = cell.model.outputs.toJSON();
  return {
    index, source: cell.model.sharedModel.getSource(), count: cell.model.executionCount,
    errors: outputs.filter((o) => o.output_type === 'error')
                   .map((o) => `${o.ename}: ${o.evalue}`),
  };
}).filter((cell) => cell !== null)"""

# What a widget shows, leaving out the control being moved (marked data-course-control):
# its HTML (images' src included) and the values of the other form controls.
_SNAPSHOT = """(root) => {
  const values = [];
  root.querySelectorAll('input, select, textarea').forEach((c) => {
    if (!c.closest('[data-course-control]')) values.push(c.value);
  });
  const copy = root.cloneNode(true);
  copy.querySelectorAll('[data-course-control]').forEach((node) => node.remove());
  return copy.innerHTML + '\\n' + values.join('\\n');
}"""

# Controls to try, in order: (kind, CSS selector of the control's widget node).
CONTROLS = [
    ("slider", ".widget-slider"),
    ("dropdown", ".widget-dropdown"),
    ("select", ".widget-select"),
    ("toggle buttons", ".widget-toggle-buttons"),
    ("radio buttons", ".widget-radio"),
    ("checkbox", ".widget-checkbox"),
    ("toggle button", ".widget-toggle-button"),
    ("button", "button.widget-button"),
]


class WidgetCheckFailed(AssertionError):
    pass


class LabTab:
    """A browser tab with JupyterLab loaded, in which notebooks open one after another (loading
    JupyterLab itself takes seconds of the CPU)."""

    def __init__(self, browser, server: LabServer, size=(1400, 1600)):
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.goto(f"{server.url}/lab?reset&token={server.token}")
        self.page.wait_for_function("window.jupyterapp !== undefined", timeout=120_000)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


class LabPage:
    """One notebook open in JupyterLab: in ``tab`` (closed again by ``close``), or in a tab of
    its own."""

    def __init__(self, browser, server: LabServer, notebook: str, size=(1400, 1600), tab=None):
        self.server, self.notebook = server, notebook
        self.tab, self.own_tab = tab or LabTab(browser, server, size), tab is None
        self.page, self.console_errors = self.tab.page, self.tab.console_errors
        self.console_errors.clear()
        kernel = self.page.evaluate(_OPEN, notebook)
        if kernel is None:
            raise WidgetCheckFailed(f"{notebook}: JupyterLab started no kernel for it")

    def close(self) -> None:
        if self.own_tab:
            self.tab.close()
        elif self.page.evaluate(_CLOSE):  # the next notebook opens in the same tab
            raise WidgetCheckFailed(
                f"{self.notebook}: its cells are still in the page after closing it"
            )

    def run_all(self, only: list[int] | None = None) -> list[dict]:
        """Run every cell (or only the cells listed); fail naming each of them that did not
        run or raised an error."""
        result = self.page.evaluate(_RUN_ALL, [RUN_TIMEOUT_S * 1000, only])
        cells = self.page.evaluate(_CELLS)
        if only is not None:
            cells = [c for c in cells if c["index"] in only]
        problems = [
            f"cell {c['index']} raised {error}" for c in cells for error in c["errors"]
        ]  # fmt: skip
        stderr = self.page.locator(f'.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')
        for output in stderr.all():
            text = output.inner_text()
            if "Traceback" in text:
                cell = output.evaluate("(n) => n.closest('[data-course-cell]').dataset.courseCell")
                problems.append(f"cell {cell} shows a traceback: {text[-500:]}")
        if result == "timeout":
            problems.append(f"running the cells took more than {RUN_TIMEOUT_S} s")
        not_run = [c["index"] for c in cells if c["source"].strip() and c["count"] is None]
        if not_run:
            problems.append(f"cells {not_run} did not run")
        if problems:
            raise WidgetCheckFailed(f"{self.notebook}: " + "; ".join(problems))
        return cells

    def widget_outputs(self, cell: int, expected: int):
        """The cell's widget views, once all ``expected`` of them rendered as widgets."""
        area = self.page.locator(f'[data-course-cell="{cell}"] .jp-Cell-outputArea')
        # The cell's own outputs (not those of an Output widget nested inside a widget).
        views = area.locator(":scope > .jp-OutputArea-child > .jp-OutputArea-output")
        deadline = time.monotonic() + RENDER_TIMEOUT_S
        while True:
            rendered = [
                v for v in views.all()
                if v.locator(":scope > .jupyter-widgets").count()
                and not any(text in v.inner_text() for text in NOT_RENDERED)
            ]  # fmt: skip
            if len(rendered) >= expected:
                return rendered
            if time.monotonic() > deadline:
                shown = area.inner_text() if area.count() else "(no output)"
                raise WidgetCheckFailed(
                    f"{self.notebook} cell {cell}: {expected} widget(s) expected, "
                    f"{len(rendered)} rendered as a widget within {RENDER_TIMEOUT_S} s; "
                    f"the cell shows: {shown[:300]!r}"
                    + (f"; page errors: {self.console_errors[:3]}" if self.console_errors else "")
                )
            time.sleep(0.5)

    @staticmethod
    def cut_labels(view) -> list[str]:
        """Texts of the widget's labels, buttons and readouts that the page cuts short (shown
        with an ellipsis or clipped: their content is wider than their box)."""
        return view.evaluate(_CUT_LABELS)

    def check_reacts(self, view, label: str, shots: Path) -> str:
        """Move controls of the widget ``view`` one by one until what the widget shows (outside
        the moved control) changes; screenshots it before and after into ``shots`` as
        ``<label>-before.png`` and ``<label>-after.png``; returns a description of the control
        that worked."""
        view.screenshot(path=shots / f"{label}-before.png")
        tried = []
        for kind, selector in CONTROLS:
            for control in view.locator(selector).all():
                if len(tried) >= MAX_CONTROLS_TRIED:
                    break
                if not control.is_visible() or control.is_disabled() or _is_disabled(control):
                    continue
                name = _describe(kind, control)
                control.evaluate("(n) => n.setAttribute('data-course-control', '')")
                try:
                    before = view.evaluate(_SNAPSHOT)
                    if not _move(kind, control):
                        continue  # it cannot move (e.g. a slider whose min equals its max)
                    tried.append(name)
                    deadline = time.monotonic() + REACT_TIMEOUT_S
                    while time.monotonic() < deadline:
                        if view.evaluate(_SNAPSHOT) != before:
                            _wait_until_still(view)  # e.g. a readout changes before a picture
                            view.screenshot(path=shots / f"{label}-after.png")
                            return name
                        time.sleep(0.25)
                finally:
                    control.evaluate("(n) => n.removeAttribute('data-course-control')")
        raise WidgetCheckFailed(
            f"{self.notebook}, widget {label}: nothing it shows changed within "
            f"{REACT_TIMEOUT_S} s after moving each of these controls: {tried or 'none found'}"
        )


_CUT_LABELS = """(root) => [...root.querySelectorAll(
    '.widget-label, .widget-toggle-button, .widget-button, .widget-readout, '
    + '.widget-dropdown select, .lm-TabBar-tabLabel')]
  // Inline elements (clientWidth 0) grow with their text: they cannot cut it.
  .filter((n) => n.offsetParent !== null && getComputedStyle(n).display !== 'inline')
  .filter((n) => {
    // The text's own width against the room inside the element's padding: an ellipsis or a
    // clip keeps the element's size, so only the text's layout shows that it was cut.
    const range = document.createRange();
    range.selectNodeContents(n);
    const css = getComputedStyle(n);
    const room = n.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
    return range.getBoundingClientRect().width > room + 0.5 || n.scrollWidth > n.clientWidth + 1;
  })
  .map((n) => (n.textContent || n.value || '').trim())"""


def _wait_until_still(view, quiet_s: float = 1.0, limit_s: float = 10) -> None:
    """Wait until what the widget shows stays the same for quiet_s (at most limit_s)."""
    last, deadline = view.evaluate(_SNAPSHOT), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = view.evaluate(_SNAPSHOT)
        if now == last:
            return
        last = now


def _is_disabled(control) -> bool:
    return control.evaluate(
        "(n) => n.matches('.mod-disabled, [disabled]') || !!n.querySelector('[disabled]')"
    )


def _describe(kind: str, control) -> str:
    label = control.locator(".widget-label").first
    text = label.inner_text().strip() if label.count() else control.inner_text().strip()
    return f"{kind} {text[:40]!r}" if text else kind


def _move(kind: str, control) -> bool:
    """Change the control's value the way a user would; False when it cannot change."""
    if kind == "slider":
        handle, readout = control.locator(".noUi-handle").first, control.locator(".widget-readout")
        value = readout.inner_text()
        for key in ("ArrowRight", "ArrowLeft"):  # left when it already sits at its maximum
            handle.focus()
            handle.press(key)
            time.sleep(0.2)
            if readout.inner_text() != value:
                return True
        return False
    if kind in ("dropdown", "select"):
        select = control.locator("select").first
        count, chosen = select.evaluate("(s) => [s.options.length, s.selectedIndex]")
        if count < 2:
            return False
        select.select_option(index=1 if chosen != 1 else 0)
        return True
    if kind in ("toggle buttons", "radio buttons"):
        choices = control.locator("button:not(.mod-active), input[type=radio]:not(:checked)")
        if not choices.count():
            return False
        choices.first.click()
        return True
    if kind == "checkbox":
        control.locator("input").first.click()
        return True
    control.click()  # a toggle button or a button
    return True


# --- one widget driven through its states, its layout checked in each -------------------------

# The layout of a widget view, measured the same way in every state. Each widget element gets
# an id (data-course-id) the first time it is seen, so that its width can be compared across
# states; pictures (img) are left out of the widths since their size follows the figure.
_LAYOUT = """async (root) => {
  const shown = (n) => n.getClientRects().length > 0 && getComputedStyle(n).visibility !== 'hidden';
  const images = [...root.querySelectorAll('img')].filter(shown);
  await Promise.all(images.map((i) => i.decode().catch(() => null)));  // decoded, or broken
  let next = Number(root.dataset.courseNext || 0);
  const name = (n) => {
    const kind = [...n.classList].filter((c) => /^widget-(?!inline|container|box)/.test(c));
    const label = n.querySelector(':scope > .widget-label');
    const text = label ? label.textContent.trim() : '';
    return (kind.join(' ') || n.className || n.tagName) + (text ? ` '${text}'` : '');
  };
  const widgets = [...root.querySelectorAll('.jupyter-widgets, .widget-toggle-buttons')]
    .filter(shown);
  const widths = {};
  for (const n of widgets.filter((n) => n.tagName !== 'IMG')) {
    if (!n.dataset.courseId) n.dataset.courseId = String(next++);
    widths[n.dataset.courseId] = [name(n), Math.round(n.getBoundingClientRect().width)];
  }
  root.dataset.courseNext = String(next);
  // Wider content than box: a scroll strip (boxes scroll) or text running out of its box.
  const overflowing = [];
  const texts = root.querySelectorAll('.widget-html-content, .widget-readout, .widget-label');
  for (const n of new Set([root, ...widgets, ...texts])) {
    if (!shown(n) || n.clientWidth === 0) continue;
    if (n.scrollWidth > n.clientWidth + 1) {
      overflowing.push(`${name(n)}: ${n.scrollWidth}px of content in ${n.clientWidth}px`);
    }
    const style = getComputedStyle(n);
    if (/auto|scroll/.test(style.overflowY) && n.scrollHeight > n.clientHeight + 1) {
      overflowing.push(`${name(n)}: scrolls, ${n.scrollHeight}px high in ${n.clientHeight}px`);
    }
  }
  // Seen: inside each box around it that clips (a scrolling box shows only part of itself).
  const seen = (n) => {
    const box = n.getBoundingClientRect();
    if (box.width === 0) return false;
    for (let a = n.parentElement; a && a !== root.parentElement; a = a.parentElement) {
      const clips = getComputedStyle(a).overflowX !== 'visible';
      const r = a.getBoundingClientRect(), left = r.left + a.clientLeft;
      if (clips && (box.left < left - 1 || box.right > left + a.clientWidth + 1)) return false;
    }
    return true;
  };
  const readouts = [...root.querySelectorAll('.widget-slider')].filter(shown).map((s) => {
    const r = s.querySelector('.widget-readout');
    const text = r ? r.textContent.trim() : '';
    return {name: name(s), text, visible: !!r && shown(r) && seen(r)};
  });
  const broken = images.filter((i) => !i.getAttribute('src') || i.naturalWidth === 0)
    .map((i) => name(i));
  const wrappedButtons = [...root.querySelectorAll('.widget-toggle-buttons')].filter(shown)
    .filter((t) => {
      const parts = [...t.querySelectorAll('button, .widget-label')].filter(shown);
      const tops = parts.map((b) => b.getBoundingClientRect().top);
      return Math.max(...tops) - Math.min(...tops) > 4;  // not all on one row
    }).map(name);
  const messages = [...root.querySelectorAll('.widget-html-content')].filter(shown).map((h) => {
    const only = h.children.length === 1 ? h.firstElementChild : null;  // a wrapping block?
    const block = only && getComputedStyle(only).display === 'block' ? only : h;
    const line = parseFloat(getComputedStyle(block).lineHeight) || 20;
    return {text: h.textContent.replace(/\\s+/g, ' ').trim(),
            lines: Math.round(block.getBoundingClientRect().height / line)};
  });
  return {widths, overflowing, readouts, broken, wrappedButtons, messages,
          pictures: images.length};
}"""

# Marks the one control whose own label reads ``label`` (data-course-target); returns how many.
_MARK = """(root, [selector, label]) => {
  const marked = root.querySelectorAll('[data-course-target]');
  marked.forEach((n) => n.removeAttribute('data-course-target'));
  const found = [...root.querySelectorAll(selector)].filter((n) => {
    const own = n.querySelector(':scope > .widget-label');
    return own && own.textContent.trim() === label;
  });
  found.forEach((n) => n.setAttribute('data-course-target', ''));
  return found.length;
}"""

# How many times the kernel went busy (counted from the first call), and whether it is idle now.
_KERNEL_STATE = """() => {
  const kernel = window.coursePanel.sessionContext.session.kernel;
  if (window.courseBusyOf !== kernel) {
    window.courseBusyOf = kernel;
    window.courseBusy = 0;
    kernel.statusChanged.connect((_, status) => { if (status === 'busy') window.courseBusy++; });
  }
  return [window.courseBusy, kernel.status === 'idle'];
}"""


class WidgetDriver:
    """Drives one widget view the way a student does (keys on slider handles, typing, clicks)
    and checks its layout after every step against its first state:

    - every widget element keeps the width it first had (the control column does not shrink);
    - nothing is wider than its box (no scroll strip, no text running out of its box);
    - every slider shows its value, inside the slider;
    - no picture is a broken image, and toggle buttons sit on one row with their label;
    - no label, button or tab title is cut short;
    - an expected message is shown, on several lines when it is long (it wraps).

    Problems are collected (``problems``), each naming the widget and the state, with a
    screenshot of every state in ``shots``."""

    def __init__(self, page: LabPage, view, name: str, shots: Path):
        self.page, self.view, self.name, self.shots = page, view, name, shots
        self.first_widths: dict[str, tuple[str, int]] = {}
        self.problems: list[str] = []
        self.states = 0

    # --- acting -------------------------------------------------------------------------------

    def _control(self, label: str, selector: str = ".jupyter-widgets, .widget-toggle-buttons"):
        found = self.view.evaluate(_MARK, [selector, label])
        if found != 1:
            raise WidgetCheckFailed(f"{self.name}: {found} controls labelled {label!r}")
        return self.view.locator("[data-course-target]")

    def _settle(self, before: str, busy_before: int, quiet_s: float = 0.3) -> None:
        """Wait until the widget changed from ``before``, the kernel has answered (it went busy
        since, and is idle) and the widget stayed the same for quiet_s (a slider's readout
        changes at once, the picture after the kernel drew it)."""
        deadline = time.monotonic() + REACT_TIMEOUT_S
        last, still_since = before, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.view.evaluate(_SNAPSHOT)
            if now != last:
                last, still_since = now, time.monotonic()
            elif last != before and time.monotonic() - still_since >= quiet_s:
                busy, idle = self.page.page.evaluate(_KERNEL_STATE)
                if busy > busy_before and idle:
                    return
        raise WidgetCheckFailed(
            f"{self.name}: no change answered by the kernel within {REACT_TIMEOUT_S} s"
        )

    def _do(self, action) -> None:
        before, (busy, _) = self.view.evaluate(_SNAPSHOT), self.page.page.evaluate(_KERNEL_STATE)
        action()
        self._settle(before, busy)

    def press(self, label: str, key: str, times: int = 1) -> None:
        """Keys on the handle of the slider labelled ``label`` (ArrowRight, End, Home...)."""
        self.press_all([(label, key)] * times)

    def press_all(self, moves: list[tuple[str, str]]) -> None:
        """A key on each slider handle in turn, (label, key) pairs, then the widget settles."""
        handles = [
            self._control(label, ".widget-slider").locator(".noUi-handle").first.element_handle()
            for label, _ in moves
        ]  # fmt: skip

        def act():
            for handle, (_, key) in zip(handles, moves, strict=True):
                handle.focus()
                handle.press(key)

        self._do(act)

    def type_value(self, label: str, text: str) -> None:
        """Types ``text`` into the readout of the slider labelled ``label`` (as one can)."""
        readout = self._control(label, ".widget-slider").locator(".widget-readout")

        def act():
            readout.click()
            self.page.page.keyboard.press("Control+A")
            self.page.page.keyboard.type(text)
            self.page.page.keyboard.press("Enter")

        self._do(act)

    def type(self, label: str, text: str) -> None:
        """Types ``text`` into the text box labelled ``label``, replacing what it held."""
        box = self._control(label, ".widget-text").locator("input")
        self._do(lambda: box.fill(text))

    def choose(self, label: str, option: str | None = None, index: int | None = None) -> None:
        """Chooses an option, by its text or index, in the dropdown or list labelled ``label``."""
        select = self._control(label, ".widget-dropdown, .widget-select").locator("select")
        choice = {"label": option} if option is not None else {"index": index}
        self._do(lambda: select.select_option(**choice))

    def choose_none(self, label: str) -> None:
        """Unselects every option of the multiple-choice list labelled ``label``."""
        select = self._control(label, ".widget-select-multiple").locator("select")
        self._do(lambda: select.select_option([]))

    def click(self, label: str, button: str) -> None:
        """Clicks the toggle button ``button`` of the toggle buttons labelled ``label``."""
        control = self._control(label, ".widget-toggle-buttons")
        self._do(lambda: control.locator("button", has_text=button).first.click())

    def click_button(self, text: str) -> None:
        button = self.view.locator("button.widget-button", has_text=text).first
        self._do(lambda: button.click())

    def click_tab(self, index: int) -> None:
        self.view.locator(".lm-TabBar-tab").nth(index).click()
        time.sleep(0.3)  # no kernel round trip: the browser shows the other tab at once

    # --- checking -----------------------------------------------------------------------------

    def check(self, state: str, message: str | None = None, wraps: bool = False,
              picture: bool | None = None) -> dict:  # fmt: skip
        """Measure the layout in this state and note every problem. ``message``: a text the
        widget must show (``wraps``: on several lines, for one longer than its box is wide);
        ``picture``: whether a picture must show (True) or none may (False)."""
        self.states += 1
        slug = re.sub(r"[^a-z0-9]+", "-", state.lower())
        shot = self.shots / f"{self.name}-{self.states:02d}-{slug}.png"
        self.view.screenshot(path=shot)
        layout = self.view.evaluate(_LAYOUT)
        problems = []
        for key, (what, width) in layout["widths"].items():
            first = self.first_widths.setdefault(key, (what, width))
            if abs(first[1] - width) > 1:
                problems.append(f"{what} is {width}px wide, was {first[1]}px")
        problems += layout["overflowing"]
        problems += [
            f"{r['name']} shows no value" for r in layout["readouts"]
            if not r["visible"] or not r["text"]
        ]  # fmt: skip
        problems += [f"broken image: {b}" for b in layout["broken"]]
        problems += [f"{t}: buttons on several rows" for t in layout["wrappedButtons"]]
        problems += [f"cut short: {text!r}" for text in LabPage.cut_labels(self.view)]
        if message is not None:
            shown = [m for m in layout["messages"] if message in m["text"]]
            if not shown:
                problems.append(f"no message {message!r} shown")
            elif wraps and shown[0]["lines"] < 2:
                problems.append(f"message {message!r} does not wrap ({shown[0]['lines']} line)")
        if picture is True and layout["pictures"] == 0:
            problems.append("no picture shown")
        if picture is False and layout["pictures"]:
            problems.append(f"{layout['pictures']} picture(s) shown where none can be drawn")
        self.problems += [f"{self.name}, {state}: {p} (see {shot})" for p in problems]
        return layout
