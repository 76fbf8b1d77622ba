// SPDX-License-Identifier: GPL-3.0-or-later
//
// Reenact Restyle: a Flamenco job type (docs/farm.md, "Restyle on a farm"). Restyles one movie or
// image strip of the submitted .blend with a trained restyle model in chunks of timeline frames
// (Restyle Strip, each chunk a Blender background process writing its frames into the strip's
// frame folder next to the .blend), then one last task that depends on every chunk adds the
// result strip (Assemble Restyle: the movie with the footage's audio when Output is MOVIE) and
// saves the .blend.
//
// Install: copy this file into the `scripts/` folder next to the flamenco-manager executable (the
// Manager reads job types afresh: no restart; refresh the job types in Blender's Flamenco add-on). Workers need Blender with the Reenact extension installed and enabled,
// and the .blend, its footage and the model on the shared storage ("work directly on the shared
// storage": Flamenco must not copy the .blend, the results go next to it).
//
// The command lines are reenact.farm's restyle_expr / restyle_assemble_expr; the test
// tests/test_farm_restyle.py compiles jobs with Node and checks they agree. The helpers below
// (pyLiteral, operatorCall, parseRange, blenderTask) repeat reenact_render.js's: Flamenco runs
// every job type script on its own, with no way to load a shared one.

const JOB_TYPE = {
    label: "Reenact Restyle",
    description: "Restyle a strip with a Reenact restyle model in chunks and add the result strip",
    settings: [
        {
            key: "strip", type: "string", required: true,
            eval: "C.scene.sequence_editor.active_strip.name if C.scene.sequence_editor is not None " +
                  "and C.scene.sequence_editor.active_strip is not None " +
                  "and C.scene.sequence_editor.active_strip.type in {'MOVIE', 'IMAGE'} else ''",
            evalInfo: { showLinkButton: true, description: "The active movie or image strip" },
            description: "Name of the movie or image strip to restyle",
        },
        {
            key: "model", type: "string", required: true,
            eval: "C.scene.reenact.restyle_model",
            evalInfo: { showLinkButton: true, description: "The scene's restyle model" },
            description: "Restyle model (.onnx from reenact restyle train), as the .blend names it (// = next to it)",
        },
        {
            key: "frames", type: "string", required: true,
            // the active strip's visible part
            eval: "(lambda s: f'{s.frame_final_start}-{s.frame_final_end - 1}' if s is not None else '')" +
                  "(C.scene.sequence_editor.active_strip if C.scene.sequence_editor is not None else None)",
            evalInfo: { showLinkButton: true, description: "The strip's visible frames" },
            description: "Timeline frames to restyle, first-last (both included), inside what the strip shows",
        },
        {
            key: "chunk_size", type: "int32", default: 50, propargs: { min: 1 }, visible: "submission",
            description: "Frames per restyle task",
        },
        {
            key: "stabilise", type: "float", default: 0.8, propargs: { min: 0.0, max: 0.95 }, visible: "submission",
            description: "How much of the previous frame's change, moved by optical flow, is kept",
        },
        {
            key: "output", type: "string", choices: ["IMAGES", "MOVIE", "PRORES"], default: "IMAGES", visible: "submission",
            description: "IMAGES: the strip shows the frame folder; MOVIE: the last task also makes the movie, with the footage's audio (movie strips); PRORES: the same in ProRes 422 HQ (.mov), for editing systems",
        },
        { key: "lossless", type: "bool", default: false, visible: "submission", description: "Lossless movie (.mkv)" },
        {
            key: "add_strip", type: "bool", default: true, visible: "submission",
            description: "The last task adds the result strip and saves the .blend (untick when the file stays open in Blender; run Assemble Restyle there)",
        },
        {
            key: "job_id", type: "string", default: "", visible: "submission",
            description: "Job id the watermark carries (empty: derived from the footage and the model)",
        },
        // Filled in by Flamenco's Blender add-on on submission.
        { key: "blendfile", type: "string", required: true, visible: "web", description: "The .blend to restyle" },
    ],
};

// A Python literal of a setting, spelled like JSON (a string), True/False or a number.
function pyLiteral(value) {
    if (typeof value === "boolean") {
        return value ? "True" : "False";
    }
    if (typeof value === "number") {
        if (!isFinite(value)) {
            throw `Reenact: expected a number, got ${value}`;
        }
        return String(value);
    }
    return JSON.stringify(String(value));
}

// "r = bpy.ops.reenact.OP(k=v, ...); assert r == {'FINISHED'}, r"
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

function stabilise(settings) {
    return settings.stabilise === undefined || settings.stabilise === null ? 0.8 : Number(settings.stabilise);
}

// the job's token last among the operator's keywords, as reenact.farm's expressions name it
function withFarmJob(kwargs, token) {
    if (token) {
        kwargs.farm_job = token;
    }
    return kwargs;
}

function restyleTask(settings, first, last, c, d, token) {
    const expr = "import bpy; " + operatorCall("restyle_strip", withFarmJob({
        strip_name: settings.strip, model: settings.model,
        use_range: true, frame_first: first, frame_last: last,
        use_chunk: true, chunk_first: c, chunk_last: d,
        output: "IMAGES", job_id: settings.job_id || "", stabilise: stabilise(settings),
    }, token));
    return blenderTask(`reenact-restyle-${c === d ? c : c + "-" + d}`, settings, expr);
}

function assembleTask(settings, token) {
    let expr = "import bpy; " + operatorCall("assemble_restyle", withFarmJob({
        strip_name: settings.strip, model: settings.model, output: settings.output || "IMAGES",
        lossless: !!settings.lossless,
    }, token));
    if (settings.add_strip !== false) {
        expr += "; bpy.ops.wm.save_mainfile()";
    }
    return blenderTask("reenact-assemble-restyle", settings, expr);
}

// The job's token: every task of this submission the same, another submission another. Each
// chunk leaves a marker naming it in the frame folder, and the assemble task checks that the
// chunks of this job, and no other, wrote the frames (render/chunks.py in the extension).
function farmJob() {
    return Date.now().toString(36) + "-" + Math.floor(Math.random() * 2176782336).toString(36);
}

function compileJob(job) {
    const settings = job.settings;
    if (!settings.strip) {
        throw "Reenact: no strip: make the movie or image strip active before submitting, or type its name";
    }
    if (!settings.model) {
        throw "Reenact: no restyle model: choose one in Reenact > Restyle, or type its path";
    }
    if (!settings.blendfile) {
        throw "Reenact: no blend file";
    }
    const s = stabilise(settings);
    if (!(s >= 0 && s <= 0.95)) {
        throw `Reenact: stabilise ${settings.stabilise}: give a value from 0 to 0.95`;
    }
    const range = parseRange(settings.frames);
    const first = range[0], last = range[1];
    const size = Math.floor(Number(settings.chunk_size)) || 1;
    if (size < 1) {
        throw "Reenact: chunk_size must be at least 1";
    }
    const token = farmJob();
    const tasks = [];
    // the chunks made here, not by Flamenco's frameChunker: a real Manager's writes a run of two
    // frames as "N,N+1" (and cannot split negative frames), which one range cannot be parsed from
    for (let c = first; c <= last; c += size) {
        const task = restyleTask(settings, first, last, c, Math.min(c + size - 1, last), token);
        job.addTask(task);
        tasks.push(task);
    }
    const last_task = assembleTask(settings, token);
    for (const task of tasks) {
        last_task.addDependency(task);
    }
    job.addTask(last_task);
}
