# SPDX-License-Identifier: GPL-3.0-or-later
"""Run by tests/test_extension.py in a fresh Python process with BLENDER_USER_RESOURCES set to
a temporary folder: install the built extension zip into the PyPI bpy module, enable it, check
that every operator and panel registered and works, disable it, check everything is gone.
Prints one JSON line with what it found; exits non-zero on any failure."""

import json
import sys


def track_with_installed_extension(clip):
    """The installed extension (its own wheels, Blender's numpy) tracks a real clip."""
    import bpy

    scene = bpy.context.scene
    ed = scene.sequence_editor_create()
    strip = ed.strips.new_movie(name="clip", filepath=clip, channel=1, frame_start=1)
    ed.active_strip = strip
    assert bpy.ops.reenact.track_strip() == {"FINISHED"}
    actors = [o for o in bpy.data.objects if o.type == "MESH" and o.reenact.is_actor]
    assert len(actors) == 1
    ob = actors[0]
    return {"actor": ob.name, "shape_keys": len(ob.data.shape_keys.key_blocks) - 1,
            "tracked_fraction": ob.reenact.tracked_fraction}


def main(zip_path, clip=None):
    import bpy

    result = {"blender": bpy.app.version_string}
    res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
    result["install"] = sorted(res)
    module_name = "bl_ext.user_default.reenact"
    mod = sys.modules.get(module_name)
    assert mod is not None, "extension module not imported after install"
    assert module_name in bpy.context.preferences.addons, "extension not enabled"

    glue = mod.blender
    ops = list(glue.operators.classes)
    panels = list(glue.panels.classes)
    props = list(glue.props.classes)
    result["operators"] = [c.bl_idname for c in ops]
    result["panels"] = [c.__name__ for c in panels]
    for cls in ops + panels + props:
        assert cls.is_registered, "{} is not registered".format(cls.__name__)
    for cls in ops:
        cat, name = cls.bl_idname.split(".")
        assert hasattr(getattr(bpy.ops, cat), name), cls.bl_idname
    for cls in panels:
        if issubclass(cls, bpy.types.Panel):
            assert cls.bl_space_type == "SEQUENCE_EDITOR" and cls.bl_category == "Reenact", cls.__name__
        else:  # the Strip > Reenact menu lists every operator (and makes them findable with F3) but
            # the Actors panel's per-actor buttons
            assert issubclass(cls, bpy.types.Menu)
            assert {c.bl_idname for c in glue.panels.menus.operator_classes()} == {
                c.bl_idname for c in ops} - {"reenact.make_actor_active"}
    assert glue.panels.menus.draw_strip_menu in bpy.types.SEQUENCER_MT_strip._dyn_ui_initialize()
    assert hasattr(bpy.types.Scene, "reenact")
    # the preferences belong to the extension module (not to its blender/ subpackage)
    prefs = glue.props.preferences(bpy.context)
    assert prefs is not None and hasattr(prefs, "training_python"), "add-on preferences not found"
    assert glue.props.ADDON == module_name
    # the bundled renderer of actors without their own: the 256 px base (the default: its training
    # weights ship too), or the 128 px one by preference
    import importlib
    import os as _os

    actor = importlib.import_module(module_name + ".blender.actor")
    renderer_mod = importlib.import_module(module_name + ".render.renderer")
    ob = bpy.data.objects.new("reenact_check_actor", None)
    assert prefs.base_model == "base256" and actor.model_of(ob) is None
    path = renderer_mod.model_path(None)
    assert path.endswith("renderer_base256.onnx") and _os.path.isfile(path), path
    assert _os.path.isfile(path[:-5] + ".int8.onnx")  # what the CPU runs
    assert not _os.path.isfile(path[:-5] + ".fp16.onnx")  # (CUDA's variant: the zip's onnxruntime is the CPU's)
    assert _os.path.isfile(path[:-5] + ".pt")  # what Train Renderer fine-tunes
    result["base256"] = _os.path.basename(path)
    prefs.base_model = "base"
    path = actor.model_of(ob)
    assert path.endswith("renderer_base.onnx") and _os.path.isfile(path[:-5] + ".int8.onnx"), path
    prefs.base_model = "base256"
    bpy.data.objects.remove(ob)

    # The runtime wheels inside the zip really load: a real onnxruntime session runs.
    assert bpy.ops.reenact.check_runtime() == {"FINISHED"}
    result["provider"] = bpy.context.scene.reenact.runtime_provider
    import onnxruntime

    result["onnxruntime_file"] = onnxruntime.__file__
    import os

    user = os.environ["BLENDER_USER_RESOURCES"]
    found = set()
    for dirpath, dirnames, _ in os.walk(user):
        if os.path.basename(dirpath) == "site-packages":
            found.update(d for d in dirnames if d in ("onnxruntime", "cv2", "av"))
    result["installed_wheels"] = sorted(found)

    if clip:
        result["track"] = track_with_installed_extension(clip)

    bpy.ops.preferences.addon_disable(module=module_name)
    for cls in ops + panels + props:
        assert not cls.is_registered, "{} still registered after disable".format(cls.__name__)
    assert not hasattr(bpy.types.Scene, "reenact"), "Scene.reenact left behind"
    assert not hasattr(bpy.types.Object, "reenact"), "Object.reenact left behind"
    assert not any(getattr(f, "__module__", "").startswith(module_name)
                   for f in bpy.types.SEQUENCER_MT_strip._dyn_ui_initialize()), "menu entry left behind"
    result["disabled_clean"] = True

    # ... and enabling again works (no leftovers from the first registration).
    bpy.ops.preferences.addon_enable(module=module_name)
    mod = sys.modules[module_name]
    assert all(c.is_registered for c in mod.blender.operators.classes + mod.blender.panels.classes)
    bpy.ops.preferences.addon_disable(module=module_name)
    result["reenabled"] = True
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
