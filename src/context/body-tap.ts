import type { IncomingMessage } from 'node:http';

/**
 * A copy of the first bytes of a request body, taken as node's HTTP parser pushes them into the
 * request stream. It never reads the stream, never changes its mode and never delays it: the app (or
 * its body parser) consumes the body exactly as without the agent. Used only on routes that need it
 * (login routes), capped at `limit` bytes.
 */
export interface BodyTap {
  bytes(): Buffer;
}

type Push = (chunk: unknown, encoding?: BufferEncoding) => boolean;

export function tapRequestBody(req: IncomingMessage, limit: number): BodyTap {
  const chunks: Buffer[] = [];
  let size = 0;
  const original = req.push as Push;
  const tapped: Push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (size < limit && chunk !== null && chunk !== undefined) {
      try {
        const b = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, encoding) : undefined;
        if (b !== undefined) {
          // The parser's chunk may be a view of a buffer it reuses: copy what we keep.
          const take = Buffer.from(b.subarray(0, limit - size));
          chunks.push(take);
          size += take.length;
        }
      } catch {
        // never disturb the stream
      }
    }
    if (chunk === null || size >= limit) (req as { push: Push }).push = original;
    return original.call(this, chunk, encoding);
  };
  (req as { push: Push }).push = tapped;
  return { bytes: () => Buffer.concat(chunks) };
}

/** Parse a small JSON or form body; undefined when it is neither or malformed. */
export function parseSmallBody(contentType: string | undefined, body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  const ct = (contentType ?? '').toLowerCase();
  try {
    if (ct.includes('json')) {
      const v: unknown = JSON.parse(body.toString('utf8'));
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    }
    if (ct.includes('x-www-form-urlencoded')) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (!(k in out)) out[k] = v;
      return out;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
