// `npm run audit`: npm audit of the production dependencies, failing on high or critical
// advisories unless scripts/audit-exceptions.json explains them. Where the registry's advisory
// endpoint cannot be reached (some mirrors and offline registries answer 405), say so loudly and
// pass, unless PRUNESCOPE_AUDIT_REQUIRED=1 (set it on release machines with normal registry access).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface AuditException {
  package: string;
  reason: string;
}
export type AuditVerdict =
  | { kind: 'clean'; total: number }
  | { kind: 'explained'; explained: string[] }
  | { kind: 'failed'; unexplained: string[] }
  | { kind: 'unreachable'; reason: string };

const SERIOUS = new Set(['high', 'critical']);

/** Reads npm audit's --json document (npm 7+ format) against the documented exceptions. */
export function auditVerdict(doc: unknown, exceptions: AuditException[]): AuditVerdict {
  const d = (doc ?? {}) as Record<string, unknown>;
  const vulns = d.vulnerabilities as Record<string, { severity?: string }> | undefined;
  if (!vulns || typeof vulns !== 'object') {
    const why = typeof d.message === 'string' ? d.message : 'npm audit printed no vulnerability report';
    return { kind: 'unreachable', reason: why };
  }
  const serious = Object.entries(vulns)
    .filter(([, v]) => SERIOUS.has(String(v?.severity)))
    .map(([name, v]) => `${name} (${v.severity})`);
  if (serious.length === 0) return { kind: 'clean', total: Object.keys(vulns).length };
  const known = new Set(exceptions.filter((e) => e.reason.trim().length > 0).map((e) => e.package));
  const unexplained = serious.filter((s) => !known.has(s.split(' ')[0]));
  return unexplained.length ? { kind: 'failed', unexplained } : { kind: 'explained', explained: serious };
}

function main(): number {
  const root = path.resolve(__dirname, '..', '..');
  const exceptions = JSON.parse(
    fs.readFileSync(path.join(root, 'scripts', 'audit-exceptions.json'), 'utf8'),
  ) as AuditException[];
  const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    doc = { message: `npm audit output was not JSON: ${(r.stderr || r.stdout).slice(0, 300)}` };
  }
  const v = auditVerdict(doc, exceptions);
  switch (v.kind) {
    case 'clean':
      console.log(`npm audit --omit=dev: no high or critical advisories (${v.total} lower ones)`);
      return 0;
    case 'explained':
      console.log(
        `npm audit --omit=dev: high/critical advisories, each explained in scripts/audit-exceptions.json: ${v.explained.join(', ')}`,
      );
      return 0;
    case 'failed':
      console.error(
        `npm audit --omit=dev: unexplained high/critical advisories: ${v.unexplained.join(', ')}\nFix them or explain each in scripts/audit-exceptions.json and SECURITY.md.`,
      );
      return 1;
    case 'unreachable':
      console.warn(`npm audit --omit=dev: NOT CHECKED, the advisory endpoint could not be used: ${v.reason}`);
      return process.env.PRUNESCOPE_AUDIT_REQUIRED === '1' ? 2 : 0;
  }
}

if (require.main === module) process.exit(main());
