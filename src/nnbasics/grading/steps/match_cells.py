"""``MatchCells``: give cells whose nbgrader metadata an editor stripped their grade_ids back, by content."""

import copy

from nbgrader.preprocessors import NbGraderPreprocessor

from ..course import defined_names, nbgrader_meta, released_notebook
from .state import state


class MatchCells(NbGraderPreprocessor):
    """Restore missing grade_ids, and keep the first of duplicated ones.

    Locked cells are recognised by their released source, solution cells by
    the function or class they define, quiz answers by order. Of duplicated
    grade_ids the first copy keeps its metadata, and the duplication is noted.
    Runs first, so that nbgrader's own steps see a notebook with its ids.
    """

    def preprocess(self, nb, resources):
        notes = state(resources).notes
        seen = set()
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if not isinstance(gid, str):
                cell.metadata.pop("nbgrader", None)  # metadata without a usable id: an ordinary cell
            elif gid in seen:
                # keep the first copy (nbgrader's DeduplicateIds would keep the last, and leave an empty
                # metadata dict that its OverwriteCells then trips over); a copy is an ordinary cell
                notes[gid] = f"The notebook had two cells with id {gid}; the first was graded."
                cell.metadata.pop("nbgrader", None)
            else:
                seen.add(gid)
        bare = [c for c in nb.cells if c.cell_type == "code" and not nbgrader_meta(c)]
        if not bare:
            return nb, resources
        released = released_notebook(resources["nbgrader"]["assignment"])
        quiz = [c for c in released.cells if nbgrader_meta(c).get("grade_id", "").startswith("quiz_")]
        answers = [c for c in bare if "answer" in defined_names(c.source)]
        matched = 0
        for ref in released.cells:
            meta = nbgrader_meta(ref)
            gid = meta.get("grade_id")
            if gid is None or gid in seen or ref.cell_type != "code":
                continue
            if meta.get("locked"):
                hits = [c for c in bare if c.source.strip() == ref.source.strip()]
            elif gid.startswith("quiz_"):
                k = quiz.index(ref)
                hits = answers[k : k + 1]
            else:
                hits = [c for c in bare if gid in defined_names(c.source)]
            if hits:
                hits[0].metadata["nbgrader"] = copy.deepcopy(meta)
                bare.remove(hits[0])
                seen.add(gid)
                matched += 1
        if matched:
            self.log.warning("nbgrader metadata was missing from %d cells; matched them by content", matched)
        return nb, resources
