// The distillation defaults, one place for the engine, the CLI, the worker job and the VS Code
// prompts/settings (they used to disagree on alpha: 0.7 in the engine, 0.5 in the command).
export const DISTILL_DEFAULTS = { temperature: 4, alpha: 0.7, epochs: 100 } as const;
