import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditVerdict } from '../../scripts/audit';

// Documents shaped like npm 10's `npm audit --json` output.
const report = (v: Record<string, string>) => ({
  auditReportVersion: 2,
  vulnerabilities: Object.fromEntries(Object.entries(v).map(([name, severity]) => [name, { name, severity }])),
});

test('moderate and low advisories pass; the count is reported', () => {
  assert.deepEqual(auditVerdict(report({ a: 'low', b: 'moderate' }), []), { kind: 'clean', total: 2 });
});

test('a high advisory fails unless an exception with a reason names its package', () => {
  assert.deepEqual(
    auditVerdict(report({ a: 'high', b: 'low', c: 'critical' }), [{ package: 'c', reason: 'dev-time only path' }]),
    { kind: 'failed', unexplained: ['a (high)'] },
  );
  assert.deepEqual(auditVerdict(report({ a: 'high' }), [{ package: 'a', reason: '  ' }]), {
    kind: 'failed',
    unexplained: ['a (high)'],
  });
  assert.deepEqual(auditVerdict(report({ a: 'high' }), [{ package: 'a', reason: 'not reachable from PruneScope' }]), {
    kind: 'explained',
    explained: ['a (high)'],
  });
});

test('an unreachable advisory endpoint is reported as unchecked, never as clean', () => {
  const v = auditVerdict(
    {
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
    },
    [],
  );
  assert.equal(v.kind, 'unreachable');
  assert.match((v as { reason: string }).reason, /405/);
});
