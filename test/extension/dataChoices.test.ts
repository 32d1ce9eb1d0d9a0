// The data picker's workspace choices: image class folders grouped from image paths, x .npy files
// paired with their labels by the usual names, .npz and CSV files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import {
  DATA_FILES_GLOB,
  IMAGE_FILES_GLOB,
  labelCandidates,
  looksLikeLabels,
  workspaceDataChoices,
  workspaceFiles,
} from '../../src/extension/dataChoices';

const W = '/ws';
const p = (...s: string[]) => path.join(W, ...s);
const rel = (f: string) => path.relative(W, f);

test('labels are looked for beside the inputs under the usual names', () => {
  assert.deepEqual(labelCandidates(p('d', 'x_test.npy')), [p('d', 'y_test.npy'), p('d', 'Y_test.npy')]);
  assert.deepEqual(labelCandidates(p('X.npy')), [p('y.npy'), p('Y.npy')]);
  assert.deepEqual(labelCandidates(p('train_images.npy')), [p('train_labels.npy')]);
  assert.deepEqual(labelCandidates(p('inputs.npy')), [p('labels.npy'), p('targets.npy')]);
  assert.deepEqual(labelCandidates(p('weights.npy')), []);
  assert.ok(looksLikeLabels('y_test.npy') && looksLikeLabels('labels.npy') && looksLikeLabels('Y.npy'));
  assert.ok(!looksLikeLabels('x_test.npy') && !looksLikeLabels('yolo_inputs.npy'));
});

test('workspace choices: class folders with two classes or more, paired arrays, archives, CSVs', () => {
  const choices = workspaceDataChoices(
    {
      images: [
        p('digits', '0', 'a.png'),
        p('digits', '0', 'b.png'),
        p('digits', '1', 'c.jpg'),
        p('logos', 'only', 'x.png'),
        p('pets', 'cat', '1.bmp'),
        p('pets', 'dog', '2.jpeg'),
      ],
      npy: [
        p('arr', 'x_test.npy'),
        p('arr', 'y_test.npy'),
        p('arr', 'lonely.npy'),
        p('arr', 'train_images.npy'),
        p('arr', 'train_labels.npy'),
      ],
      npz: [p('mnist.npz')],
      csv: [p('t.csv')],
    },
    rel,
  );
  assert.deepEqual(
    choices.map((c) => [c.kind, c.data, c.labels ?? null, c.label]),
    [
      ['image-folder', p('digits'), null, 'digits/'],
      ['image-folder', p('pets'), null, 'pets/'],
      ['npy', p('arr', 'train_images.npy'), p('arr', 'train_labels.npy'), 'train_images.npy + train_labels.npy'],
      ['npy', p('arr', 'x_test.npy'), p('arr', 'y_test.npy'), 'x_test.npy + y_test.npy'],
      ['npz', p('mnist.npz'), null, 'mnist.npz'],
      ['csv', p('t.csv'), null, 't.csv'],
    ],
  );
  assert.equal(choices[0].description, '2 classes (0, 1), 3 images: digits');
});

test('found files are sorted by kind, whatever the case of the extension; the searches cover each kind', () => {
  const files = workspaceFiles([p('a.PNG'), p('b.jpeg'), p('x.npy'), p('d.NPZ'), p('t.csv'), p('m.json'), p('r.txt')]);
  assert.deepEqual(files, {
    images: [p('a.PNG'), p('b.jpeg')],
    npy: [p('x.npy')],
    npz: [p('d.NPZ')],
    csv: [p('t.csv')],
  });
  assert.equal(DATA_FILES_GLOB, '**/*.{csv,npy,npz,CSV,NPY,NPZ}');
  assert.equal(IMAGE_FILES_GLOB, '**/*.{png,jpg,jpeg,bmp,PNG,JPG,JPEG,BMP}');
});
