"""Command palette entries (ctrl+p) for every action the keys reach, found by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keys import Key, collect


class ActionsProvider(Provider):
    """One entry per binding of the screen the palette was opened over (``tui.keys.collect``)."""

    def _entries(self) -> list[tuple[str, Key]]:
        out = []
        for section in collect(self.app, self.screen):
            for key in section.keys:
                out.append((f"{section.title}: {key.description}", key))
        return out

    def _run(self, key: Key) -> None:
        self.app.call_later(self.app.run_action, key.action, key.owner)

    async def discover(self) -> Hits:
        for text, key in self._entries():
            yield DiscoveryHit(text, partial(self._run, key), help=f"key: {key.keys}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, key in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self._run, key),
                    text=text,
                    help=f"key: {key.keys}",
                )
