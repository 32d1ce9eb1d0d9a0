// The e2e hook: every engineer's real-VS-Code checks live in their own file under test/e2e/checks/,
// so nobody edits driver.js to add one. This module finds and validates them; driver.js runs them.
'use strict';
const fs = require('fs');
const path = require('path');

/**
 * The check modules of `dir` (`*.js`, in name order). Each exports `run(ctx)` (async) and may export
 * `title` (the check's name in the report; the file name otherwise). A module that cannot be loaded
 * or has no `run` is still listed, with `error` set, so the run reports it as a failed check.
 */
function loadCheckModules(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((file) => {
      const where = path.join(dir, file);
      try {
        const mod = require(where);
        if (typeof mod.run !== 'function') {
          return { file, title: file, error: `${where} exports no run(ctx) function` };
        }
        const title = typeof mod.title === 'string' && mod.title ? mod.title : file;
        return { file, title: `${file}: ${title}`, run: mod.run };
      } catch (e) {
        return { file, title: file, error: `${where} failed to load: ${e.message}` };
      }
    });
}

/** E2E_ONLY=<regex>: run only the check modules whose file name matches (plus the workbench load). */
function onlyPattern(env) {
  return env.E2E_ONLY ? new RegExp(env.E2E_ONLY) : undefined;
}

module.exports = { loadCheckModules, onlyPattern };
