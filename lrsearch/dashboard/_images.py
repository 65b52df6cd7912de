"""Each trial's picture as an Optuna artifact, for the dashboard's trial page.

Where the pictures live (:func:`artifact_dir_for`): ``--artifact-dir`` / ``artifact_dir=``,
else ``$LRSEARCH_ARTIFACT_DIR``, else a folder beside a SQLite study file
(``studies/lrsearch.db`` -> ``studies/lrsearch-artifacts/``); other storages without either get
no picture (they get the trial note instead). ``off`` (:data:`NO_PICTURES`) turns them off.

:class:`TrialViews` is the ``on_trial_end`` hook of :class:`lrsearch.objective.Objective`
that ``lrsearch tune`` passes: it registers the picture with
:func:`optuna.artifacts.upload_artifact` while the trial still runs (Optuna records an
artifact only on a running trial). Drawing is not done there: the artifact store it uploads
through (:class:`_RenderLater`) hands the drawing (an SVG, about a millisecond) to one
background thread, which writes the file while the next trial trains.
:meth:`TrialViews.close` waits for the pictures still being drawn. A process killed outright
loses at most the picture being drawn (the trial is stored).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import BinaryIO

from lrsearch.dashboard._views import write_trial_note

if TYPE_CHECKING:
    import optuna

    from lrsearch.report import TrialInfo
    from lrsearch.space import ScheduleSpec

#: the environment variable naming the artifact folder when ``--artifact-dir`` is not given
ARTIFACT_DIR_ENV = "LRSEARCH_ARTIFACT_DIR"
#: ``--artifact-dir off``: no pictures (``./off`` is a folder named off)
NO_PICTURES = "off"
#: the picture's file name in the dashboard
IMAGE_NAME = "lr_and_loss.svg"
#: its type: SVG costs about a millisecond to write, where matplotlib's PNG costs 80-90 ms
IMAGE_TYPE = "image/svg+xml"


def artifact_dir_for(
    storage_url: str, artifact_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The artifact folder of a study storage (see the module docstring), ``None`` if none."""
    given = artifact_dir or os.environ.get(ARTIFACT_DIR_ENV)
    if given:
        return None if str(given) == NO_PICTURES else Path(given)
    from lrsearch.storage import sqlite_path

    try:
        db = sqlite_path(storage_url)
    except Exception:  # not a URL: the storage's own check reports it
        return None
    if db is None or str(db) == ":memory:":
        return None
    return db.parent / f"{db.stem}-artifacts"


def open_artifact_store(folder: Path) -> Any:
    """Optuna's :class:`~optuna.artifacts.FileSystemArtifactStore` on ``folder``."""
    from optuna.artifacts import FileSystemArtifactStore

    return FileSystemArtifactStore(base_path=folder)


class _RenderLater:
    """An Optuna artifact store whose ``write`` renders the next picture on a thread.

    ``upload_artifact`` records the artifact's id, name and type on the running trial, then
    calls ``write`` with the (empty) file it was given: here the picture queued by
    :meth:`expect` is rendered and written into the real store in the background.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lrsearch-images")
        self._pending: list[Future[None]] = []
        self._next: TrialInfo | None = None

    def expect(self, info: TrialInfo) -> None:
        self._next = info

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self.store.open_reader(artifact_id)

    def remove(self, artifact_id: str) -> None:
        self.store.remove(artifact_id)

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        info, self._next = self._next, None
        if info is None:  # not ours: write it as it is
            self.store.write(artifact_id, content_body)
            return
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._pool.submit(self._render, artifact_id, info))

    def _render(self, artifact_id: str, info: TrialInfo) -> None:
        import io

        from lrsearch.report import trial_svg

        try:
            self.store.write(artifact_id, io.BytesIO(trial_svg(info)))
        except Exception as exc:  # a picture is a nicety: never fail the run over it
            _warn_once(exc)

    def close(self) -> None:
        """Wait for the pictures still being drawn."""
        self._pool.shutdown(wait=True)


_warned = False


def _warn_once(exc: BaseException) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(
            f"lrsearch: warning: could not write a trial's picture ({type(exc).__name__}: "
            f"{exc}); tuning goes on.",
            file=sys.stderr,
        )


class TrialViews:
    """``on_trial_end`` hook: the trial's picture (an artifact), else its dashboard note.

    With an ``artifact_dir`` each trial gets its picture and no note: optuna-dashboard keeps
    trial notes among the *study's* system attributes and looks each trial's note up by
    scanning all of them, so a note per trial makes the study page O(n^2) in the trials (9.7
    MB in 5.7 s at 2,000 trials, against well under a second without). ``artifact_dir=None``
    (no artifact store: ``--artifact-dir off``, or a server storage without one), or a picture
    that could not be registered, writes the note (:func:`write_trial_note`) instead.

    Use as a context manager (or call :meth:`close`) so that the last pictures are written
    before the process ends.
    """

    def __init__(self, artifact_dir: str | os.PathLike[str] | None) -> None:
        self.artifact_dir = None if artifact_dir is None else Path(artifact_dir)
        self._store: _RenderLater | None = None
        self._empty: Path | None = None

    def _later(self) -> _RenderLater:
        if self._store is None:
            assert self.artifact_dir is not None
            self.artifact_dir.mkdir(parents=True, exist_ok=True)
            self._store = _RenderLater(open_artifact_store(self.artifact_dir))
            folder = Path(tempfile.mkdtemp(prefix="lrsearch-img-"))
            self._empty = folder / IMAGE_NAME
            self._empty.touch()
        return self._store

    def __call__(
        self,
        trial: optuna.trial.Trial,
        spec: ScheduleSpec | Mapping[str, Any],
        history: Mapping[str, Sequence[float | None]],
    ) -> None:
        if self.artifact_dir is not None:
            try:
                self.upload(trial, spec, history)
                return
            except Exception as exc:  # never fail a trial over its picture
                _warn_once(exc)
        write_trial_note(trial, spec, history)

    def upload(
        self,
        trial: optuna.trial.Trial,
        spec: ScheduleSpec | Mapping[str, Any],
        history: Mapping[str, Sequence[float | None]],
    ) -> None:
        """Register the picture on the running ``trial``; it is drawn in the background."""
        from optuna.artifacts import upload_artifact

        from lrsearch.report import trial_info

        data = spec if isinstance(spec, Mapping) else spec.to_dict()
        reason = trial.user_attrs.get("pruned_reason") if hasattr(trial, "user_attrs") else None
        family, optimizer = data.get("family", "?"), data.get("optimizer", "sgd")
        title = f"trial #{trial.number}: {family} ({optimizer})"
        info = trial_info(history, title=title, pruned_reason=reason)
        store = self._later()
        assert self._empty is not None
        store.expect(info)
        upload_artifact(
            artifact_store=store,
            file_path=str(self._empty),
            study_or_trial=trial,
            mimetype=IMAGE_TYPE,
        )

    def close(self) -> None:
        """Wait for the pictures still being drawn; remove the empty placeholder file."""
        if self._store is not None:
            self._store.close()
        if self._empty is not None:
            self._empty.unlink(missing_ok=True)
            self._empty.parent.rmdir()
            self._empty = None

    def __enter__(self) -> TrialViews:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_VIEWS: dict[str, TrialViews] = {}


def trial_views_for(storage: Any) -> TrialViews:
    """The :class:`TrialViews` of a storage (a URL or an ``RDBStorage``), one per process and
    storage: for front ends that call a hook per trial (``lrsearch.kerastuner``). Its last
    pictures are written when the process exits (the drawing thread is joined then)."""
    url = storage if isinstance(storage, str) else str(getattr(storage, "url", ""))
    if url not in _VIEWS:
        _VIEWS[url] = TrialViews(artifact_dir_for(url) if url else None)
    return _VIEWS[url]
