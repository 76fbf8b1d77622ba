// SPDX-License-Identifier: GPL-3.0-or-later
//
// A stand-in for the part of Flamenco Manager's job-compiler API that Reenact's job type uses
// (https://flamenco.blender.org/usage/job-types/): the globals `author.Task(name, type)`,
// `author.Command(name, parameters)`, `task.addCommand`, `task.addDependency`, `job.addTask`,
// `frameChunker(frames, chunkSize)` and `print`. It loads a job type script, checks its
// JOB_TYPE, runs compileJob on the settings given as JSON (argv[3]) and prints the compiled
// job as JSON: {"job_type": {...}, "tasks": [{name, type, commands: [{name, parameters}],
// dependencies: [task names]}]} or {"error": "..."} when compileJob throws.

"use strict";
const fs = require("fs");
const vm = require("vm");

// Flamenco's chunker as a real Manager behaves (js_globals.go, 3.3-3.9): "1-11, 13" with size 3
// -> ["1-3", "4-6", "7-9", "10,11", "13"]; a chunk is a run of consecutive frames, "N" when it
// holds one frame and "N,N+1" when it holds two (before 2026-12-05 this stand-in wrote "N-N+1",
// and hid that the job types could not parse such a chunk).
function frameChunker(frames, chunkSize) {
    const all = [];
    for (const part of String(frames).split(",")) {
        const p = part.trim();
        if (!p) continue;
        const m = /^(-?\d+)(?:(?:-|\.\.)(-?\d+))?$/.exec(p);
        if (!m) throw `frameChunker: cannot parse "${p}"`;
        const a = parseInt(m[1], 10), b = m[2] === undefined ? a : parseInt(m[2], 10);
        for (let f = a; f <= b; f++) all.push(f);
    }
    const out = [];
    let run = [];
    const flush = () => {
        if (run.length) out.push(run.length <= 2 ? run.join(",") : `${run[0]}-${run[run.length - 1]}`);
        run = [];
    };
    for (const f of all) {
        if (run.length && (f !== run[run.length - 1] + 1 || run.length >= chunkSize)) flush();
        run.push(f);
    }
    flush();
    return out;
}

class Task {
    constructor(name, type) {
        if (typeof name !== "string" || typeof type !== "string") throw "author.Task(name, type) takes two strings";
        this.name = name;
        this.type = type;
        this.commands = [];
        this.dependencies = [];
    }
    addCommand(cmd) {
        if (!(cmd instanceof Command)) throw "addCommand takes an author.Command";
        this.commands.push(cmd);
    }
    addDependency(task) {
        if (!(task instanceof Task)) throw "addDependency takes an author.Task";
        this.dependencies.push(task);
    }
}

class Command {
    constructor(name, parameters) {
        if (typeof name !== "string" || typeof parameters !== "object") throw "author.Command(name, parameters)";
        this.name = name;
        this.parameters = parameters;
    }
}

function main() {
    const script = fs.readFileSync(process.argv[2], "utf8");
    const settings = JSON.parse(process.argv[3]);
    const tasks = [];
    const job = {
        name: "test job", created: new Date(0), settings: settings, metadata: {},
        addTask(task) {
            if (!(task instanceof Task)) throw "job.addTask takes an author.Task";
            tasks.push(task);
        },
    };
    const logs = [];
    const context = vm.createContext({
        author: { Task: (n, t) => new Task(n, t), Command: (n, p) => new Command(n, p) },
        frameChunker: frameChunker,
        print: (...a) => logs.push(a.join(" ")),
        JSON: JSON,
    });
    const { JOB_TYPE, compileJob } = vm.runInContext(script + "\n;({ JOB_TYPE, compileJob });", context);
    let error = null;
    try {
        compileJob(job);
    } catch (e) {
        error = String(e);
    }
    const out = {
        job_type: JOB_TYPE,
        error: error,
        logs: logs,
        tasks: tasks.map((t) => ({
            name: t.name, type: t.type,
            commands: t.commands.map((c) => ({ name: c.name, parameters: c.parameters })),
            dependencies: t.dependencies.map((d) => d.name),
        })),
    };
    process.stdout.write(JSON.stringify(out) + "\n");
}

main();
