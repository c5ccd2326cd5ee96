/**
 * A parser for the YAML subset the deploy/ manifests are written in (no YAML library is a
 * dependency): full-line `#` comments, flow mappings `{ k: v, }`, flow sequences `[a, b, ]`,
 * single-quoted ('' escapes) and double-quoted (JSON escapes) strings, and the plain scalars
 * true, false, null and numbers. Anything else is an error naming the position, so a manifest
 * that drifts out of the subset fails its test instead of being misread.
 */
export type FlowValue = string | number | boolean | null | FlowValue[] | { [k: string]: FlowValue };

export function parseFlowYaml(text: string): FlowValue {
  const src = text
    .split('\n')
    .map((l) => (l.trimStart().startsWith('#') ? '' : l))
    .join('\n');
  let i = 0;
  const fail = (what: string): never => {
    const line = src.slice(0, i).split('\n').length;
    throw new Error(`flow YAML: ${what} at line ${line}`);
  };
  const ws = () => {
    while (i < src.length && /\s/.test(src[i] ?? '')) i++;
  };
  const value = (): FlowValue => {
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const obj: Record<string, FlowValue> = {};
      for (;;) {
        ws();
        if (src[i] === '}') {
          i++;
          return obj;
        }
        const k = value();
        if (typeof k !== 'string') return fail('mapping key is not a string');
        ws();
        if (src[i] !== ':') fail('expected ":"');
        i++;
        if (Object.hasOwn(obj, k)) fail(`duplicate key ${k}`);
        obj[k] = value();
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== '}') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: FlowValue[] = [];
      for (;;) {
        ws();
        if (src[i] === ']') {
          i++;
          return arr;
        }
        arr.push(value());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== ']') fail('expected "," or "]"');
      }
    }
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('unterminated string');
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          return s.replace(/\s*\n\s*/g, ' ');
        }
        s += src[i++];
      }
    }
    if (c === '"') {
      const start = i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i++;
      return JSON.parse(src.slice(start, i).replace(/\s*\n\s*/g, ' ')) as string;
    }
    const m = /^(true|false|null|-?\d+(\.\d+)?)(?=[\s,\]}:]|$)/.exec(src.slice(i));
    if (!m?.[1]) return fail(`unsupported scalar ${JSON.stringify(src.slice(i, i + 20))}`);
    i += m[1].length;
    return JSON.parse(m[1]) as FlowValue;
  };
  const v = value();
  ws();
  if (i < src.length) fail('trailing content');
  return v;
}
