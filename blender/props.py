# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender properties: one settings group on the Scene, per-actor data on the actor object,
and the add-on preferences. Registered first, unregistered last (see ``__init__``)."""

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

#: the extension's module name (``bl_ext.<repo>.reenact``, or ``reenact`` from a checkout): this
#: module lives one level below it, in ``blender/``
ADDON = __package__.rpartition(".")[0]


class ReenactPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON

    use_gpu: BoolProperty(
        name="Use GPU when available",
        description="Run the ONNX models with CUDA when onnxruntime can really load it; CPU otherwise",
        default=True,
    )

    base_model: EnumProperty(
        name="Bundled Renderer",
        description="The renderer of actors that have none of their own",
        items=(("base256", "Base, 256 px", "256 px face crops: draws the face better (docs/renderer.md); the "
                                             "default"),
               ("base", "Base, 128 px", "128 px face crops: a quarter of the network's time, a softer face; fine-tunes "
                                        "about 4x as many steps in a given time")),
        default="base256",
    )

    training_python: StringProperty(
        name="Training Python",
        description="A Python 3.11 with torch 2.13, numpy, OpenCV, PyAV, onnx and onnxruntime that runs training "
                    "(for example the .venv/bin/python made by `make env`; .venv\\Scripts\\python.exe on "
                    "Windows). Empty: Blender's own Python, when it has torch",
        subtype="FILE_PATH",
        default="",
    )

    sign_cert: StringProperty(
        name="Signing Certificate",
        description="C2PA certificate chain (PEM, leaf first) that signs rendered movies and images. Empty: "
                    "a local chain made on first use, trusted by no one else (docs/provenance.md)",
        subtype="FILE_PATH",
        default="",
    )
    sign_key: StringProperty(name="Signing Key", description="Private key (PEM) of the signing certificate",
                             subtype="FILE_PATH", default="")
    sign_renders: BoolProperty(
        name="Sign Final Renders",
        description="When Blender renders the sequencer to an MP4 or MOV movie, or to PNG or JPEG frames, that show "
                    "Reenact's results, sign them with a C2PA manifest naming them (docs/provenance.md)",
        default=True,
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "use_gpu")
        layout.prop(self, "base_model")
        layout.prop(self, "training_python")
        layout.prop(self, "sign_cert")
        layout.prop(self, "sign_key")
        layout.prop(self, "sign_renders")
        try:
            import onnxruntime

            cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        except Exception:  # noqa: BLE001 - a missing runtime is said by Check Runtime
            cuda = False
        if not cuda:  # (before 2026-12-06 "see the README", which had nothing for Blender: a review)
            col = layout.column(align=True)
            col.label(text="This onnxruntime runs on the CPU only (the extension carries its CPU build).",
                      icon="INFO")
            col.label(text="On a GPU, render with the reenact command line of `make env` (README, Install).")



def _size_of_16(settings, _context):
    """Train Restyle's Working Size typed as any number becomes the nearest multiple of 16 (before
    2026-12-06 a typed 100 was refused only when Train was clicked)."""
    n = max(32, min(512, int(round(settings.restyle_size / 16.0)) * 16))
    if n != settings.restyle_size:
        settings.restyle_size = n

class ReenactSceneSettings(bpy.types.PropertyGroup):
    runtime_provider: StringProperty(
        name="Provider",
        description="Execution provider that a real onnxruntime session used at the last check",
        default="",
    )
    runtime_summary: StringProperty(
        name="Runtime",
        description="Versions found at the last runtime check",
        default="",
    )
    # Tracking options (the Track Actor operator reads these as its defaults).
    max_faces: IntProperty(
        name="Actors",
        description="How many faces to track in the strip (the most prominent first)",
        default=1, min=1, max=4,
    )
    use_focal: BoolProperty(
        name="Known Focal Length",
        description="Use the focal length below instead of estimating it from the footage",
        default=False,
    )
    focal_mm: FloatProperty(
        name="Focal Length",
        description="Focal length of the shot in millimetres (36 mm sensor width)",
        default=50.0, min=1.0, max=5000.0, subtype="DISTANCE_CAMERA", unit="CAMERA",
    )
    small_faces: BoolProperty(
        name="Small Faces",
        description="Also look for faces smaller than a fifth of the frame (wide or full-body shots): slower, "
                    "and more false faces on cluttered footage",
        default=False,
    )
    # Transfer Performance's last choice in this scene (actor names; the dialog's defaults).
    transfer_source: StringProperty(name="Transfer Source", default="")
    # the last restyle model used (Restyle Strip)
    restyle_model: StringProperty(name="Restyle Model", subtype="FILE_PATH", default="",
                                  description="Restyle model (.onnx from `reenact restyle train`)",
                                  options={"PATH_SUPPORTS_BLEND_RELATIVE"})  # (a // path: no RuntimeWarning)
    transfer_target: StringProperty(name="Transfer Target", default="")
    # Train Restyle (the defaults of `reenact restyle train`, plus a time budget)
    restyle_colourise: BoolProperty(
        name="Colourise", default=False,
        description="The shot is black-and-white and the reference footage in colour: learn its colours only "
                    "(the shot's luminance is kept exactly)")
    restyle_method: EnumProperty(
        name="Method", default="recycle",
        items=(("recycle", "Recycle", "Recycle-GAN: with temporal predictors (steadier over time)"),
               ("cycle", "Cycle", "CycleGAN: frame by frame, the baseline")))
    restyle_size: IntProperty(name="Working Size", default=128, min=32, max=512, step=16, update=_size_of_16,
                              description="The networks see frames at this size (a multiple of 16); the result "
                                          "is carried to the shot's full resolution")
    restyle_minutes: FloatProperty(name="Minutes", default=15.0, min=0.0, max=10000.0,
                                   description="Training time budget (0: no limit, only Steps)")
    restyle_steps: IntProperty(name="Steps", default=2000, min=1, max=1000000,
                               description="Training steps at most (a second Train resumes from the checkpoint)")
    # Train Renderer (the sidebar's Renderer panel, Training; before 2026-12-06 not settable from the UI)
    train_steps: IntProperty(name="Steps", default=400, min=1, max=1000000,
                             description="Train Renderer's steps in all: a second Train resumes the actor's "
                                         "checkpoint up to this many (raise it to train further)")
    train_accept_footage: BoolProperty(
        name="Accept Re-encoded Footage", default=False,
        description="Train Renderer trains although the strip's pixels or frame rate differ from the footage the "
                    "actor was tracked in (a re-encoded copy of the same shot); its frame size and length must "
                    "still match")
    # (the running job's progress bar is not Blender data: modal.JOB)


class ReenactActorSettings(bpy.types.PropertyGroup):
    """Per-actor data, stored on the actor mesh object."""

    is_actor: BoolProperty(name="Reenact Actor", default=False)
    strip_name: StringProperty(name="Strip", description="Sequencer strip this actor was tracked in")
    strip_id: StringProperty(name="Strip ID", options={"HIDDEN"},
                             description="The strip's reenact_id: finds it again after the strip is renamed")
    scene_name: StringProperty(name="Scene", description="Scene holding that strip")
    actor_index: IntProperty(name="Actor", description="Which face of the strip (0 = most prominent)", min=0)
    source_path: StringProperty(name="Footage", subtype="FILE_PATH")
    track_path: StringProperty(name="Track File", description="The tracked performance (.npz)", subtype="FILE_PATH",
                               options={"PATH_SUPPORTS_BLEND_RELATIVE"})
    track_made_at: StringProperty(name="Track Made At", subtype="FILE_PATH", options={"HIDDEN"},
                                  description="Where the Track file was made (absolute): an actor appended into a "
                                              ".blend of another folder reads it there")
    frame_offset: IntProperty(name="Frame Offset", description="Timeline frame of the clip's first frame")
    frame_count: IntProperty(name="Frames", description="Frames in the clip")
    tracked_fraction: FloatProperty(name="Tracked", subtype="FACTOR", min=0.0, max=1.0)
    track_order: IntProperty(name="Track Order", default=0, min=0,
                             description="When this actor's strip was first tracked in its scene (1 = first)")
    model_path: StringProperty(
        name="Renderer",
        description="This actor's neural renderer (.onnx); empty = the bundled base model",
        subtype="FILE_PATH", options={"PATH_SUPPORTS_BLEND_RELATIVE"},
    )


def preferences(context=None):
    """The add-on preferences, or None when the add-on is not registered as an extension
    (for example when the package is imported from a plain checkout)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON)
    return addon.preferences if addon else None


def signing_paths(context=None):
    """(certificate, key) absolute paths from the preferences for C2PA signing, or (None, None)
    for the local chain."""
    prefs = preferences(context)
    if prefs and prefs.sign_cert and prefs.sign_key:
        return bpy.path.abspath(prefs.sign_cert), bpy.path.abspath(prefs.sign_key)
    return None, None


classes = (
    ReenactPreferences,
    ReenactSceneSettings,
    ReenactActorSettings,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register():
    _register_classes()
    bpy.types.Scene.reenact = PointerProperty(type=ReenactSceneSettings)
    bpy.types.Object.reenact = PointerProperty(type=ReenactActorSettings)


def unregister():
    del bpy.types.Object.reenact
    del bpy.types.Scene.reenact
    _unregister_classes()
