# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of Reenact's long jobs in Blender's interface. Their Adjust Last Operation panel
is gone (a change there would run the whole job again, blocking Blender), so before 2026-12-06
Render Performance, Render Edited Actors, Conform to Scene Rate and Assemble Render started at
once from their buttons with the options they last had: the region, output, frame range and
every other option the README's guides name were out of reach (a review of the docs against the
code). Now they show their options first, and OK starts the job beside Blender (progress, Esc);
headless (a farm, a script) they run at once, as before."""

import pytest
from conftest import printed

pytestmark = pytest.mark.blender


def test_long_jobs_show_their_options_first_and_ok_starts_the_job_beside_blender():
    line = printed("""
from types import SimpleNamespace as S
from reenact import register
register()
from reenact.blender import modal
from reenact.blender.operators.conform import REENACT_OT_conform_strip
from reenact.blender.operators.farm import REENACT_OT_assemble_render
from reenact.blender.operators.render import REENACT_OT_render_edited, REENACT_OT_render_performance

dialogs = [c.dialog for c in (REENACT_OT_render_performance, REENACT_OT_render_edited, REENACT_OT_conform_strip,
                              REENACT_OT_assemble_render)]
calls = []
modal.interactive = lambda context: True  # (Blender's interface: a window)
modal.begin_modal = lambda op, context, interval, text: calls.append("beside Blender")


class Op(modal.ModalJobMixin):
    dialog = True

    def as_pointer(self):
        return 7

    def report(self, level, text):
        calls.append(text)

    def prepare(self, context):
        calls.append("prepare")
        return (lambda progress: "done"), (), {}

    def apply(self, context, result):
        calls.append("apply " + result)


wm = S(invoke_props_dialog=lambda op, width=300: calls.append("dialog") or {"RUNNING_MODAL"})
ctx = S(window=object(), window_manager=wm)
op = Op()
first = sorted(op.invoke(ctx, None))
shown = list(calls)
ok = sorted(op.execute(ctx))  # (OK in the dialog)
started = list(calls)
calls.clear()
modal._DIALOGS.clear()
modal.set_job_state(ctx, False)
script = sorted(op.execute(ctx))  # (a script's call, no dialog: at once, as before)
print("DIALOGS", dialogs, first, shown, ok, started, script, calls)
""", "DIALOGS")
    assert line == ("DIALOGS [True, True, True, True] ['RUNNING_MODAL'] ['dialog'] ['RUNNING_MODAL'] "
                    "['dialog', 'prepare', 'beside Blender'] ['FINISHED'] ['prepare', 'apply done']"), line
