// Paths of the committed data fixtures (written by test/fixtures/data/make_fixtures.py with
// NumPy and Pillow); tests run from build/test/data, the files stay in the source tree.
import * as path from 'path';

export const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/data');
export const npyFixture = (name: string) => path.join(FIXTURES, 'npy', name);
export const imageFixture = (name: string) => path.join(FIXTURES, 'images', name);
