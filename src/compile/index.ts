// The front-end pipeline in order: parse -> resolve -> compile. Each stage throws a
// DiagnosticError carrying all of its errors, and the next stage does not run.
import { parseScript, type ParseOptions } from '../parse';
import { linkTapsets, loadTapsets } from '../parse/tapsets';
import { resolve, type ResolvedProgram } from '../resolve/resolve';
import { compile, type CompileOptions } from './codegen';
import type { Script } from '../parse/ast';
import type { ProgramImage } from '../image/image';

export interface Compiled {
  ast: Script;
  resolved: ResolvedProgram;
  image: ProgramImage;
}

/** Runs the passes up to `lastPass` (1 = parse, 2 = resolve, 3 = compile). */
export function compileSource(
  text: string,
  file: string,
  lastPass = 3,
  onPass?: (pass: number, partial: Partial<Compiled>) => void,
  parse: ParseOptions = {},
  options: CompileOptions = {},
): Partial<Compiled> {
  let ast = parseScript(text, file, parse);
  if (parse.tapsets?.length) ast = linkTapsets(ast, loadTapsets(parse.tapsets, parse)).script;
  onPass?.(1, { ast });
  if (lastPass < 2) return { ast };
  const resolved = resolve(ast);
  parse.warnings?.push(...resolved.warnings);
  onPass?.(2, { ast, resolved });
  if (lastPass < 3) return { ast, resolved };
  const image = compile(resolved, { [file]: text }, options);
  onPass?.(3, { ast, resolved, image });
  return { ast, resolved, image };
}
