// Typed errors: every failure a user can cause says which file, which field, and what was expected.
export type ErrorCode =
  | 'bad-input' // a file or argument has the wrong shape, type or value
  | 'unsupported' // valid input that PruneScope does not handle (a layer class, a dtype)
  | 'not-found' // a file, data set or column that does not exist
  | 'too-large' // refused before allocating: over a memory or size budget
  | 'numerical' // NaN/Infinity or a breakdown during a computation
  | 'cancelled' // the user cancelled the job
  | 'internal'; // a bug: should never reach a user

export interface ErrorContext {
  file?: string;
  field?: string;
  expected?: string;
}

export class PruneScopeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: ErrorContext = {},
  ) {
    super(PruneScopeError.compose(message, context));
    this.name = 'PruneScopeError';
  }

  private static compose(message: string, c: ErrorContext): string {
    const where = [c.file, c.field].filter(Boolean).join(': ');
    const head = where ? `${where}: ` : '';
    return `${head}${message}${c.expected ? ` (expected ${c.expected})` : ''}`;
  }
}

export function badInput(message: string, context: ErrorContext = {}): PruneScopeError {
  return new PruneScopeError('bad-input', message, context);
}

export class CancelledError extends PruneScopeError {
  constructor(what = 'job') {
    super('cancelled', `${what} cancelled`);
  }
}

/** Throws CancelledError when the signal has fired; call between steps of long work. */
export function throwIfCancelled(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
