// Command arguments: explorer passes (uri, uris), links pass strings, the palette nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { modelArgFrom } from '../../src/extension/args';

const uri = (scheme: string, fsPath: string) => ({ scheme, fsPath, path: fsPath });

test('a file Uri from the explorer (with the selection as second argument) gives its path', () => {
  assert.deepEqual(modelArgFrom([uri('file', '/w/model.json'), [uri('file', '/w/model.json')]]), { kind: 'path', path: '/w/model.json' });
  assert.deepEqual(modelArgFrom([uri('file', '/w/Classifier.JSON')]), { kind: 'path', path: '/w/Classifier.JSON' });
});

test('no argument means "ask"; null too (command links without args)', () => {
  assert.deepEqual(modelArgFrom([]), { kind: 'none' });
  assert.deepEqual(modelArgFrom([null]), { kind: 'none' });
});

test('remote resources, non-json files, relative paths and junk are refused with a reason', () => {
  const refused = (args: unknown[], re: RegExp) => {
    const r = modelArgFrom(args);
    assert.equal(r.kind, 'refused', JSON.stringify(args));
    if (r.kind === 'refused') assert.match(r.reason, re);
  };
  refused([uri('vscode-vfs', '/github/model.json')], /local files only/);
  refused([uri('untitled', 'Untitled-1')], /local files only/);
  refused([uri('file', '/w/weights.bin')], /not a \.json model file/);
  refused(['model.json'], /absolute/);
  refused(['/w/model.txt'], /not a \.json/);
  refused([42], /unexpected command argument/);
  refused([{ fsPath: '/w/model.json' }], /unexpected command argument/);
});

test('an absolute path string is normalised', () => {
  assert.deepEqual(modelArgFrom(['/w/a/../model.json']), { kind: 'path', path: '/w/model.json' });
});
