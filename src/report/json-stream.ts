/**
 * JSON.stringify(value, null, 2) as a sequence of chunks, so that a large report is written piece by
 * piece instead of being built as one string first (a 40 MB report was a 40 MB string plus the
 * copies made writing it). The output is byte-for-byte what JSON.stringify gives: same indentation,
 * same omission of undefined/function values in objects and null for them in arrays, toJSON honoured.
 * Containers nested deeper than `streamDepth` are serialised whole by JSON.stringify.
 */
export function* jsonChunks(value: unknown, streamDepth = 4): Generator<string> {
  yield* emit(value, '', streamDepth, undefined);
  yield '\n';
}

function* emit(value: unknown, pad: string, depth: number, key: string | undefined): Generator<string> {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    value = (value as { toJSON(k: string): unknown }).toJSON(key ?? '');
  if (depth <= 0 || value === null || typeof value !== 'object') {
    const s = JSON.stringify(value, null, 2);
    // nested text: every line after the first is indented by the container's padding
    yield pad && s !== undefined && s.includes('\n') ? s.replace(/\n/g, `\n${pad}`) : (s ?? 'null');
    return;
  }
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (!value.length) return void (yield '[]');
    yield '[';
    for (let i = 0; i < value.length; i++) {
      yield `${i ? ',' : ''}\n${inner}`;
      const v = value[i];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') yield 'null';
      else yield* emit(v, inner, depth - 1, String(i));
    }
    yield `\n${pad}]`;
    return;
  }
  let first = true;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield `${first ? '{' : ','}\n${inner}${JSON.stringify(k)}: `;
    first = false;
    yield* emit(v, inner, depth - 1, k);
  }
  yield first ? '{}' : `\n${pad}}`;
}
