# SPDX-License-Identifier: GPL-3.0-or-later
"""Takes (imports bpy): a render or restyle run again in Blender writes a new file (or frame
folder) beside the one its result strip shows, ``<name>.take2.mp4``, ``<name>.take3.mp4`` ..., and the
result strip is pointed at it (``shots.add_result_strip`` re-files the strip in place). So Ctrl-Z
after a re-render shows the previous take again, its frames as they were (before 2026-12-06 a
re-render wrote over the file the undone strip pointed at, and a cancelled re-render of an image
sequence left a folder half new, half old under the strip); and the takes can be compared.

The last take of a frame folder is written over only when no strip of any scene shows it (a
render undone, a cancelled one, or one whose strip the editor deleted): a take a strip shows is
never written over; a movie take never is (a cancelled movie render leaves none). Earlier takes stay on disk until the artist deletes them (docs/compositing.md, *Blender*, "Rendering again is a new take").
A farm's chunks keep writing into the one folder ``<name>`` (docs/farm.md)."""

import os
import re

import bpy

from . import blend


def take_name(path, k, folder=False):
    """``path`` (take 1), else ``<stem>.take<k><ext>`` (a folder: ``<path>.take<k>``; not
    ``_v<k>``, which a restyle model's own name may end with: ``grade_v2.onnx``)."""
    if k <= 1:
        return path
    stem, ext = (path, "") if folder else os.path.splitext(path)
    return "{}.take{}{}".format(stem, k, ext)


def take_number(path):
    """The take ``path`` is of its result (1 for the result's own name, k for ``.take<k>``)."""
    m = re.search(r"\.take(\d+)(?:\.[^./\\]*)?$", os.path.basename(os.path.normpath(path)))
    return int(m[1]) if m else 1


def takes_of(path, folder=False):
    """The takes of ``path`` that are there: ``path`` itself and its ``.take<k>`` ones."""
    stem, ext = (path, "") if folder else os.path.splitext(path)
    base, name = os.path.split(stem)
    pattern = re.compile(re.escape(name) + r"(?:\.take\d+)?" + re.escape(ext))
    try:
        return [os.path.join(base, n) for n in sorted(os.listdir(base)) if pattern.fullmatch(n)]
    except OSError:
        return []


def shown_paths():
    """The files and frame folders that strips of every scene show (normalised, absolute)."""
    shown = set()
    for sc in bpy.data.scenes:
        if sc.sequence_editor is None:
            continue
        for s in sc.sequence_editor.strips_all:
            p = blend._strip_paths(s)
            if p:
                shown.add(os.path.normcase(p))
    return shown


#: beside a .blend's takes: which session writes each frame folder take (``.claims/<take>``: host,
#: process id, time), so that another session never takes it for a free one
CLAIMS = ".claims"
#: how long a claim holds: another machine's process cannot be asked whether it is alive, and a
#: process id of this machine is given to another program in time
OTHER_HOST_CLAIM_SECONDS = 12 * 3600.0


def claim(take):
    """Mark the frame folder ``take`` as this session's (before it writes there). Best effort: a
    folder that cannot be written in says so at the render's own write. Returns the folders it
    made, innermost first."""
    import socket
    import time

    from ..fsutil import write_atomic

    root, name = os.path.split(os.path.normpath(os.path.abspath(take)))
    claims = os.path.join(root, CLAIMS)
    made, f = [], claims
    while f and not os.path.isdir(f) and os.path.dirname(f) != f:
        made.append(f)
        f = os.path.dirname(f)
    try:
        os.makedirs(claims, exist_ok=True)
        for n in os.listdir(claims):  # (claims of takes gone, a day old: no one's)
            p = os.path.join(claims, n)
            if n != name and not os.path.exists(os.path.join(root, n)) and time.time() - os.path.getmtime(p) > 86400:
                os.remove(p)
        data = "{}\n{}\n{:.0f}\n".format(socket.gethostname(), os.getpid(), time.time()).encode("utf-8")
        write_atomic(os.path.join(root, CLAIMS, name), lambda fh: fh.write(data))
    except OSError:
        pass
    return made


#: the frame folder takes the job being prepared will write, claimed (:func:`pending`), with the
#: folders their claims made
_PENDING = []


def pending(take):
    """Claim the frame folder ``take`` that the job being prepared will write, at once (so that
    another session choosing its take meanwhile passes it by: before the review of the evening of
    2026-12-06 the claim came when the job started, and a take claimed but not yet made was handed
    out again); :func:`claiming` takes it over, and :func:`drop_pending` takes it back when the
    preparation is refused."""
    take = os.path.normpath(os.path.abspath(take))
    _PENDING.append((take, claim(take)))


def _unclaim(take, folders, written_too=False):
    """Take back the claim of ``take`` when nothing was written there (``written_too``: in any
    case), with the folders it made (those left empty)."""
    if os.path.exists(take) and not written_too:
        return
    root, name = os.path.split(take)
    try:
        os.remove(os.path.join(root, CLAIMS, name))
    except OSError:
        pass
    for f in folders:
        try:
            os.rmdir(f)
        except OSError:
            pass


def drop_pending():
    """A preparation refused (or one before it left claims): its claims taken back, nothing left."""
    while _PENDING:
        _unclaim(*_PENDING.pop())


#: whether a job keeps the claim of a take it wrote (:func:`claiming`); None: as Blender runs (kept with
#: a window, taken back in the background); a test of a windowed session's behaviour sets it
KEEP_WRITTEN = None


def claiming(func, keep_written=None):
    """The job ``func`` holding the claims its preparation made (:func:`pending`) while it runs;
    the claim of a take it did not write is taken back when it ends, with the folders made for it.
    ``keep_written`` (default: in a Blender with a window) keeps the claim of a take it wrote, which
    this session may show unsaved; a farm task or a script (background) takes it back too: its take
    is the saved .blend's to show, or no one's (a claim kept held it from other machines for half a
    day, and Delete Unused Takes skipped a farm result the compositor dropped: a review of the
    evening of 2026-12-06)."""
    held = list(dict(_PENDING).items())
    _PENDING.clear()
    if not held:
        return func
    if keep_written is None:
        keep_written = KEEP_WRITTEN if KEEP_WRITTEN is not None else not bpy.app.background
    background = not keep_written

    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            for take, folders in held:
                _unclaim(take, folders, written_too=background)
    return run


def _alive(pid):
    """Whether the process ``pid`` of this machine runs (True where it cannot be told)."""
    if os.name == "nt":
        import ctypes

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        k32.OpenProcess.restype = ctypes.c_void_p  # (a handle: 64 bits on 64-bit Windows)
        k32.GetExitCodeProcess.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong))
        k32.CloseHandle.argtypes = (ctypes.c_void_p,)
        handle = k32.OpenProcess(0x1000, False, int(pid))  # (PROCESS_QUERY_LIMITED_INFORMATION)
        if not handle:
            return ctypes.get_last_error() == 5  # (access denied: it runs, as another user)
        try:
            code = ctypes.c_ulong()
            return not k32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # (STILL_ACTIVE)
        finally:
            k32.CloseHandle(handle)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def held_elsewhere(take):
    """Whether another Blender session (or a script's, or a farm task's) claimed the frame folder
    ``take`` (:func:`claim`) and may still be writing it or showing it unsaved: a live process of
    this machine, or another machine's claim of the last :data:`OTHER_HOST_CLAIM_SECONDS`."""
    import socket
    import time

    root, name = os.path.split(os.path.normpath(os.path.abspath(take)))
    try:
        with open(os.path.join(root, CLAIMS, name), "rb") as fh:
            host, pid, at = fh.read(4096).decode("utf-8").split("\n")[:3]
        pid, at = int(pid), float(at)
    except (OSError, ValueError):
        return False
    if time.time() - at >= OTHER_HOST_CLAIM_SECONDS:  # (a claim of half a day ago: its process id may be
        return False  # another program's by now, on this machine too)
    if host == socket.gethostname():
        return pid != os.getpid() and _alive(pid)
    return True


def next_take(path, folder=False):
    """Where a render or restyle of the result ``path`` (a movie, or with ``folder`` a frame
    folder) writes now: ``path`` when nothing is there; else, for a frame folder, the last take
    when no strip shows it (a render cancelled or undone: written over, and resumed); else a new
    take after the last (a movie is only ever complete, so an existing one is never written
    over: an undo several steps back may show it)."""
    k = 1  # (a take another session claimed and has not made yet is passed by too)
    while os.path.exists(take_name(path, k, folder)) or folder and held_elsewhere(take_name(path, k, folder)):
        k += 1
    if k == 1:
        return path
    last = take_name(path, k - 1, folder)
    if folder and os.path.isdir(last) and not _assembled(last) and os.path.normcase(
            os.path.normpath(os.path.abspath(last))) not in shown_paths() and (
            os.path.basename(last) not in shown_elsewhere(os.path.dirname(os.path.abspath(last)))) and (
            not held_elsewhere(last)):
        # (no strip shows it, here or in another .blend saved beside it, and no other session claimed it: before
        # the evening of 2026-12-06 two sessions rendering one actor at once, or a render in Blender beside a
        # background one, wrote one take, and Assemble Render replaced the other session's)
        return last
    return take_name(path, k, folder)


def _assembled(folder):
    """Whether the frame folder ``folder`` is a farm job's, assembled (its chunks' markers): never
    written over, also when no strip shows it (an undo of Assemble Render; before 2026-12-06 the
    next render in Blender wrote over the farm's frames)."""
    from ..render.chunks import jobs_in

    return bool(jobs_in(folder))


def share_copies(folder):
    """The frames of the take ``folder`` the same as an earlier take's (the footage a render copies
    through) stored once (:func:`reenact.video.pngs.share_frames`); returns the bytes shared. The
    first take holds the frames its shot shows (the others are one transparent file, linked)."""
    from ..video.pngs import share_frames

    here = os.path.normcase(os.path.abspath(folder))
    stem = re.sub(r"\.take\d+$", "", os.path.normpath(folder))
    others = [p for p in takes_of(stem, folder=True)
              if os.path.normcase(os.path.abspath(p)) != here and os.path.isdir(p)]
    return share_frames(folder, others) if others and os.path.isdir(folder) else 0


#: what :func:`unused_takes` never offers: the render cache, Preview Frame's images, a farm job's
#: folder (its chunks may be writing), and anything written in the last minutes (a render running)
KEEP = ("reenact_cache", "preview")
RECENT_SECONDS = 300.0


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for folder, _dirs, files in os.walk(path):
        for f in files:
            try:  # (a frame another take shares, share_copies: its part of the file)
                st = os.stat(os.path.join(folder, f))
                total += st.st_size // max(1, st.st_nlink)
            except OSError:
                pass
    return total


def _newest(path):
    if os.path.isfile(path):
        return os.path.getmtime(path)
    times = [os.path.getmtime(path)]
    for folder, _dirs, files in os.walk(path):
        times += [os.path.getmtime(os.path.join(folder, f)) for f in files[:64]]
    return max(times)


#: a folder of records beside a .blend's renders: which of them another .blend's strips show
#: (written when that .blend is saved: Save As keeps showing the takes of the file it came from)
SHOWN_BY = ".shown_by"


def record_shown(filepath):
    """When the .blend ``filepath`` is saved: beside the renders and restyles of another .blend
    that its strips show (a version saved with Save As shows the takes of the file it came from,
    wherever it was saved), a record of those it shows (``<root>/.shown_by/<name>-<id>.json``),
    and none where it shows none any more, so that Delete Unused Takes run in that other .blend,
    and its next render, leave them."""
    import hashlib
    import json

    from .actor import blend_name
    from ..fsutil import write_atomic

    me, home = blend_name(filepath), os.path.dirname(os.path.abspath(filepath))
    mine = "{}-{}.json".format(me, hashlib.sha1(os.path.abspath(filepath).encode("utf-8")).hexdigest()[:8])
    shown, roots = shown_paths(), {}
    for p in shown:  # (the roots its strips show: <project>/reenact/renders|restyle/<name>/<take>)
        root = os.path.dirname(p)
        if os.path.basename(os.path.dirname(os.path.dirname(root))) == "reenact" and os.path.basename(
                os.path.dirname(root)) in ("renders", "restyle"):
            roots.setdefault(root, []).append(os.path.basename(p))
    for kind in ("renders", "restyle"):  # (and those beside it, where an earlier save left a record)
        base = os.path.join(home, "reenact", kind)
        try:
            roots.update({os.path.normcase(os.path.join(base, n)): roots.get(os.path.normcase(os.path.join(base, n)), [])
                          for n in os.listdir(base) if not n.startswith(".") and n != "reenact_cache"})
        except OSError:
            continue
    from .restyle_files import blend_tag

    from .blend import own_folder

    # (its restyles' folder: the tagged name; its renders': the folder its renders go to, of the earlier naming
    # where that is its own alone)
    own = {os.path.normcase(me), os.path.normcase(blend_tag(filepath)),
           os.path.normcase(os.path.basename(own_folder(os.path.join(home, "reenact", "renders"), filepath)))}
    for root, names in roots.items():
        if os.path.basename(root) in own and os.path.dirname(os.path.dirname(
                os.path.dirname(root))) == os.path.normcase(home):
            continue  # (its own renders: what it shows is seen live)
        record = os.path.join(root, SHOWN_BY, mine)
        if names:
            os.makedirs(os.path.dirname(record), exist_ok=True)
            data = json.dumps({"blend": os.path.abspath(filepath), "shown": sorted(set(names))}).encode()
            write_atomic(record, lambda fh: fh.write(data))
        elif os.path.exists(record):
            os.remove(record)


def shown_elsewhere(root):
    """The names in ``root`` (a .blend's renders or restyles) that another .blend shows
    (:func:`record_shown`), also when that .blend is no longer where it was saved (renamed,
    moved: its takes are left, not guessed at)."""
    import json

    folder, names = os.path.join(root, SHOWN_BY), set()
    try:
        records = [n for n in os.listdir(folder) if n.endswith(".json")]
    except OSError:
        return names
    for n in records:
        try:
            with open(os.path.join(folder, n), "rb") as fh:
                names.update(str(x) for x in json.loads(fh.read(1 << 20).decode("utf-8"))["shown"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return names


def _frame_folder(path):
    """Whether ``path`` holds a render's frames and nothing else of anyone's (a frame folder)."""
    from ..video.pngs import FrameFolder

    try:
        names = os.listdir(path)
    except OSError:
        return False
    return bool(names) and all(FrameFolder.owns(n) for n in names)


def unused_takes(roots, now=None):
    """``[(path, bytes)]``: the renders and restyles in the folders ``roots`` (a .blend's
    ``//reenact/renders/<name>/`` and ``//reenact/restyle/<name>/``) that no strip of any scene
    shows: every take (a frame folder or a movie) but those shown here or by another .blend
    saved beside it (:func:`record_shown`) or claimed by another session (:func:`held_elsewhere`:
    it may show it unsaved), the render cache, preview images, farm job folders (``.farm``),
    links, folders holding anything but frames, and anything written in the last
    :data:`RECENT_SECONDS` (a render running)."""
    import time

    now = time.time() if now is None else now
    shown = shown_paths()
    out = []
    for root in roots:
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue
        elsewhere = shown_elsewhere(root)
        for name in names:
            path = os.path.join(root, name)
            movie = os.path.isfile(path) and name.lower().endswith((".mp4", ".mov", ".mkv"))
            if (name in KEEP or name.startswith(".") or name.endswith(".farm") or name in elsewhere
                    or os.path.islink(path) or not (movie or (os.path.isdir(path) and _frame_folder(path)))):
                continue  # (not a render's: a folder of the user's own files is never offered)
            if os.path.normcase(os.path.normpath(os.path.abspath(path))) in shown or held_elsewhere(path):
                continue  # (shown here, or another session's that it may show unsaved)
            try:
                if now - _newest(path) < RECENT_SECONDS:
                    continue
                out.append((path, _size(path)))
            except OSError:
                continue
    return out
