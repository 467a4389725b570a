// Diagnostics as data: every stage reports {severity, message, loc}; one printer renders stap's form.
import type { Loc } from '../parse/ast';

export type Severity = 'parse error' | 'semantic error' | 'WARNING';

export interface Diagnostic {
  severity: Severity;
  message: string;
  loc?: Loc;
  /** printed after this one as its own error, as stap's semantic_error chain (e.g. `arity 1
   * first inferred here` after `inconsistent arity (1 vs 2)`) */
  chain?: Diagnostic;
}

/** Thrown by a stage that collected errors; the CLI prints them and exits 1. */
export class DiagnosticError extends Error {
  constructor(public readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.severity}: ${d.message}`).join('\n'));
  }
}

export function diagnostic(severity: Severity, message: string, loc?: Loc): Diagnostic {
  return { severity, message, loc };
}

/**
 * Renders as stap does:
 *   parse error: expected expression
 *           at: <input>:1:23
 *        source: probe begin { x = }
 *                              ^
 */
export function formatDiagnostic(d: Diagnostic, sources: Map<string, string>): string {
  let out = `${d.severity}: ${d.message}`;
  if (!d.loc) return out + '\n';
  out += `\n        at: ${d.loc.file}:${d.loc.line}:${d.loc.col}\n`;
  const text = sources.get(d.loc.file);
  if (text !== undefined) {
    const line = text.split('\n')[d.loc.line - 1] ?? '';
    out += `     source: ${line}\n`;
    out += `             ${' '.repeat(Math.max(0, d.loc.col - 1))}^\n`;
  }
  return out;
}
