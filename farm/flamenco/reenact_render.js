// SPDX-License-Identifier: GPL-3.0-or-later
//
// Reenact Render: a Flamenco job type (docs/farm.md). Renders one actor's performance (or, with
// all_actors, every actor of its strip) from the submitted .blend in chunks of timeline frames (Render Performance, each chunk a Blender
// background process writing its frames into the actor's frame folder and the shared crop
// cache), then one last task that depends on every chunk adds the result strip (Assemble
// Render: the movie with the footage's audio when Output is MOVIE) and saves the .blend.
//
// Install: copy this file into the `scripts/` folder next to the flamenco-manager executable (the
// Manager reads job types afresh: no restart; refresh the job types in Blender's Flamenco add-on). Workers need Blender with the Reenact extension installed and enabled,
// and the .blend, its footage and its Track files on the shared storage ("work directly on the
// shared storage": Flamenco must not copy the .blend, the renders go next to it).
//
// The command lines are the ones `reenact blender-render` runs (reenact/farm/__init__.py); the
// test tests/test_farm_flamenco.py compiles jobs with Node and checks they agree.

// The sequencer's scene (Blender 5.0 gives the Video Sequencer a scene of its own, which need not
// be the window's: before 2026-12-06 the settings below read the window's, so the actor was not
// found and Frames took the other scene's range, leaving edited frames unrendered) and its
// active actor (the active object of its view layer). Flamenco's add-on evaluates these with
// only `C` and `bpy` as locals, so the lambdas take what they use as arguments.
const SEQ_SCENE = "(getattr(C, 'sequencer_scene', None) or C.scene)";
const ACTIVE_ACTOR = "(lambda sc, win: (lambda ob: ob if ob is not None and getattr(ob, 'reenact', None) is not None " +
    "and ob.reenact.is_actor else None)(win.view_layer.objects.active if sc == win.scene else " +
    "(sc.view_layers[0].objects.active if len(sc.view_layers) else None)))(" + SEQ_SCENE + ", C)";

const JOB_TYPE = {
    label: "Reenact Render",
    description: "Render a Reenact actor's performance in chunks and add the result strip",
    settings: [
        {
            key: "actor", type: "string", required: true,
            eval: "(lambda ob: ob.name if ob is not None else '')(" + ACTIVE_ACTOR + ")",
            evalInfo: { showLinkButton: true, description: "The active actor" },
            description: "Name of the actor object whose performance is rendered",
        },
        {
            key: "frames", type: "string", required: true,
            // the actor's clip, inside the scene's range
            eval: "(lambda sc, ob: f'{max(sc.frame_start, ob.reenact.frame_offset)}-" +
                  "{min(sc.frame_end, ob.reenact.frame_offset + ob.reenact.frame_count - 1)}' if ob is not None " +
                  "else f'{sc.frame_start}-{sc.frame_end}')(" + SEQ_SCENE + ", " + ACTIVE_ACTOR + ")",
            evalInfo: { showLinkButton: true, description: "The actor's clip within the scene range" },
            description: "Timeline frames to render, first-last (both included), e.g. '1-250'",
        },
        {
            key: "chunk_size", type: "int32", default: 25, propargs: { min: 1 }, visible: "submission",
            description: "Frames per render task",
        },
        {
            key: "region", type: "string", choices: ["mouth", "face", "head"], default: "mouth", visible: "submission",
            description: "mouth: visual dubbing; face: the whole face; head: full reenactment",
        },
        {
            key: "output", type: "string", choices: ["IMAGES", "MOVIE", "PRORES"], default: "IMAGES", visible: "submission",
            description: "IMAGES: the strip shows the frame folder; MOVIE: the last task also makes the movie, with the footage's audio; PRORES: the same in ProRes 422 HQ (.mov), for editing systems",
        },
        { key: "lossless", type: "bool", default: false, visible: "submission", description: "Lossless movie (.mkv)" },
        {
            key: "all_actors", type: "bool", default: false, visible: "submission",
            description: "Every tracked actor of the actor's strip, each with its own performance, in one result strip (a two-shot dubbed for both)",
        },
        {
            key: "add_strip", type: "bool", default: true, visible: "submission",
            description: "The last task adds the result strip and saves the .blend (untick when the file stays open in Blender; run Assemble Render there)",
        },
        {
            key: "job_id", type: "string", default: "", visible: "submission",
            description: "Job id the watermark carries (empty: derived from the footage, the renderer and the actor)",
        },
        // Filled in by Flamenco's Blender add-on on submission.
        { key: "blendfile", type: "string", required: true, visible: "web", description: "The .blend to render" },
    ],
};

// A Python literal of a setting, spelled like JSON (a string), True/False or an integer.
function pyLiteral(value) {
    if (typeof value === "boolean") {
        return value ? "True" : "False";
    }
    if (typeof value === "number") {
        if (!Number.isInteger(value)) {
            throw `Reenact: expected a whole number, got ${value}`;
        }
        return String(value);
    }
    return JSON.stringify(String(value));
}

// "import bpy; r = bpy.ops.reenact.OP(k=v, ...); assert r == {'FINISHED'}, r"
function operatorCall(op, kwargs) {
    const parts = Object.keys(kwargs).map((k) => `${k}=${pyLiteral(kwargs[k])}`);
    return `r = bpy.ops.reenact.${op}(${parts.join(", ")}); assert r == {'FINISHED'}, r`;
}

// "12-20" or "12" (both ends included) -> [12, 20]
function parseRange(text) {
    const m = /^\s*(-?\d+)\s*(?:(?:-|\.\.)\s*(-?\d+)\s*)?$/.exec(String(text));
    if (!m) {
        throw `Reenact: frames "${text}": give one range of timeline frames, first-last (e.g. 1-250)`;
    }
    const first = parseInt(m[1], 10);
    const last = m[2] === undefined ? first : parseInt(m[2], 10);
    if (last < first) {
        throw `Reenact: frames "${text}": the last frame is before the first`;
    }
    return [first, last];
}

// A "blender" task running Flamenco's blender-render command on the job's .blend with `expr`
// (reenact.farm.blender_args builds the same command line).
function blenderTask(name, settings, expr) {
    const task = author.Task(name, "blender");
    task.addCommand(author.Command("blender-render", {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: [],
        blendfile: settings.blendfile,
        args: ["--python-exit-code", "1", "--python-expr", expr],
    }));
    return task;
}

// Every Actor of the Strip: the operators' all_actors, named only when on (the command lines of
// a one-actor job stay as they were)
function withAllActors(settings, kwargs) {
    if (settings.all_actors) {
        kwargs.all_actors = true;
    }
    return kwargs;
}

// the job's token last among the operator's keywords, as reenact.farm's expressions name it
function withFarmJob(kwargs, token) {
    if (token) {
        kwargs.farm_job = token;
    }
    return kwargs;
}

function renderTask(settings, first, last, c, d, token) {
    const expr = "import bpy; " + operatorCall("render_performance", withFarmJob(withAllActors(settings, {
        actor: settings.actor, region: settings.region || "mouth",
        use_range: true, frame_first: first, frame_last: last,
        use_chunk: true, chunk_first: c, chunk_last: d,
        output: "IMAGES", job_id: settings.job_id || "",
    }), token));
    return blenderTask(`reenact-render-${c === d ? c : c + "-" + d}`, settings, expr);
}

function assembleTask(settings, token) {
    let expr = "import bpy; " + operatorCall("assemble_render", withFarmJob(withAllActors(settings, {
        actor: settings.actor, region: settings.region || "mouth", output: settings.output || "IMAGES",
        lossless: !!settings.lossless,
    }), token));
    if (settings.add_strip !== false) {
        expr += "; bpy.ops.wm.save_mainfile()";
    }
    return blenderTask("reenact-assemble", settings, expr);
}

// The job's token: every task of this submission the same, another submission another. Each
// chunk leaves a marker naming it in the frame folder, and the assemble task checks that the
// chunks of this job, and no other, wrote the frames (render/chunks.py in the extension).
function farmJob() {
    return Date.now().toString(36) + "-" + Math.floor(Math.random() * 2176782336).toString(36);
}

function compileJob(job) {
    const settings = job.settings;
    if (!settings.actor) {
        throw "Reenact: no actor: make the actor active before submitting, or type its name";
    }
    if (!settings.blendfile) {
        throw "Reenact: no blend file";
    }
    const range = parseRange(settings.frames);
    const first = range[0], last = range[1];
    const size = Math.floor(Number(settings.chunk_size)) || 1;
    if (size < 1) {
        throw "Reenact: chunk_size must be at least 1";
    }
    const token = farmJob();
    const renders = [];
    // the chunks made here, not by Flamenco's frameChunker: a real Manager's writes a run of two
    // frames as "N,N+1" (and cannot split negative frames), which one range cannot be parsed from
    for (let c = first; c <= last; c += size) {
        const task = renderTask(settings, first, last, c, Math.min(c + size - 1, last), token);
        job.addTask(task);
        renders.push(task);
    }
    const last_task = assembleTask(settings, token);
    for (const task of renders) {
        last_task.addDependency(task);
    }
    job.addTask(last_task);
}
