"""Where an operator opens an output from a Prefect artifact: a browser refuses `file://` links,
so a published file or a Data Docs page is linked through the portal (absolute URLs from the
public base URL setting); with no portal configured, the artifact shows the file's full path as
text to copy into the file manager."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tonghop.layout import Workspace

PUBLISHED_PREFIX = "/van-hanh/tep"
DATA_DOCS_PREFIX = "/van-hanh/data-docs"


@dataclass(frozen=True)
class OutputAddresses:
    """How the outputs of one workspace are linked: through the portal at `public_url`, or
    (None) by their paths."""

    workspace: Workspace
    public_url: str | None

    def url(self, path: Path) -> str | None:
        """The portal's address of a published file or Data Docs page; None when there is no
        portal or the file is neither."""
        if not self.public_url:
            return None
        base = self.public_url.rstrip("/")
        path = Path(path).resolve()
        docs = self.workspace.data_docs_index.parent.resolve()
        published = self.workspace.published.resolve()
        if path.is_relative_to(docs):
            return f"{base}{DATA_DOCS_PREFIX}/{quote(path.relative_to(docs).as_posix())}"
        if path.is_relative_to(published):
            period, *rest = path.relative_to(published).parts
            if rest:
                return f"{base}{PUBLISHED_PREFIX}/{quote(period)}/{quote('/'.join(rest))}"
        return None

    def markdown(self, text: str, path: Path) -> str:
        """A Markdown link to the file through the portal, else its full path as code."""
        address = self.url(path)
        if address is None:
            return f"`{Path(path).resolve()}`"
        shown = text.replace("[", "(").replace("]", ")")
        return f"[{shown}]({address})"
