# SPDX-License-Identifier: GPL-3.0-or-later
"""What a movie writer keeps of each audio track it copies from the shot (:mod:`.encode`)."""


def copy_track_tags(ia, oa) -> None:
    """Give the output audio stream ``oa`` what the source stream ``ia`` says of itself: its
    language, handler and title (a QuickTime track's name reads as "name") and its disposition
    (the track a player plays by default, a forced, hearing- or visual-impaired, commentary or
    dub track). Before the evening of 2026-12-06 the disposition was lost: a shot whose French dub was its
    default track came out with the first track default in .mp4/.mov and none in .mkv, so
    players played the other language."""
    for k in ("language", "handler_name"):
        if ia.metadata.get(k):
            oa.metadata[k] = ia.metadata[k]
    name = ia.metadata.get("title") or ia.metadata.get("name")
    if name:
        oa.metadata["title"] = name
    oa.disposition = ia.disposition


def no_sound_note(folder, shot):
    """The line of a frame folder written from a shot with sound: the sound was left out, and the
    command that makes a movie of the frames with it (``render`` and ``restyle apply`` say it)."""
    import os
    import shlex

    folder, shot = os.fspath(folder), os.fspath(shot)
    return ("{}: frames hold no sound; the shot's audio was left out (`reenact assemble {} --video {} --out "
            "MOVIE.mp4` makes a movie of these frames with the shot's sound)".format(
                folder, shlex.quote(folder), shlex.quote(shot)))
