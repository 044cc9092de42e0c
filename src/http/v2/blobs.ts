// GET/HEAD/DELETE /v2/<name>/blobs/<digest>, with single and multi-range GETs.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { parseDigest } from '../../oci/digest.ts';
import { parseRangeHeader } from '../range.ts';
import { streamFile } from '../send-file.ts';
import { proxyRedirected, type V2Handler } from './context.ts';

export const headBlob: V2Handler = async (d, r) => {
  parseDigest(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  let size: number | null = null;
  if (project.registryId && d.proxy) {
    if (await proxyRedirected(d, r, project, 'blobs')) return r.reply;
    const a = await d.proxy.blob(project, r.name, r.ref, false);
    if (a.kind === 'remote' && a.size >= 0) size = a.size;
  }
  size ??= await d.blobs.stat(r.name, r.ref);
  return r.reply
    .code(200)
    .header('Content-Length', String(size))
    .header('Docker-Content-Digest', r.ref)
    .header('Accept-Ranges', 'bytes')
    .header('Content-Type', 'application/octet-stream')
    .header('ETag', `"${r.ref}"`)
    .send();
};

export const getBlob: V2Handler = async (d, r) => {
  parseDigest(r.ref);
  const project = await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  if (project.registryId && d.proxy) {
    if (await proxyRedirected(d, r, project, 'blobs')) return r.reply;
    const a = await d.proxy.blob(project, r.name, r.ref, true);
    // Not cached yet: the bytes as they arrive from upstream (ranges are served once the blob is cached).
    if (a.kind === 'remote' && a.stream) {
      r.reply.code(200).header('Docker-Content-Digest', r.ref).header('ETag', `"${r.ref}"`).header('Content-Type', 'application/octet-stream');
      if (a.size >= 0) r.reply.header('Content-Length', String(a.size));
      return r.reply.send(a.stream);
    }
  }
  const size = await d.blobs.stat(r.name, r.ref);
  // Storage `redirect` (S3): authorized and visible, so hand the client a presigned URL, as Distribution does;
  // the client sends its Range header there itself.
  const location = await d.blobs.redirectUrl(r.ref);
  if (location) return r.reply.code(307).header('Location', location).header('Docker-Content-Digest', r.ref).send();
  const reply = r.reply.header('Docker-Content-Digest', r.ref).header('Accept-Ranges', 'bytes').header('ETag', `"${r.ref}"`);
  const ranges = parseRangeHeader(r.req.headers.range, size);
  if (!ranges) {
    const file = size > 0 ? await d.blobs.openFile(r.ref) : null;
    if (!file) return reply.code(200).header('Content-Type', 'application/octet-stream').header('Content-Length', String(size)).send(d.blobs.open(r.ref));
    // Fast path: take the response over from Fastify and stream with reused buffers.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'Docker-Distribution-API-Version': 'registry/2.0',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
    });
    try {
      await streamFile(raw, file, size);
    } catch {
      raw.destroy();
    } finally {
      await file.close().catch(() => {});
    }
    return reply;
  }
  if (ranges.length === 1) {
    const [{ start, end }] = ranges;
    return reply
      .code(206)
      .header('Content-Type', 'application/octet-stream')
      .header('Content-Range', `bytes ${start}-${end}/${size}`)
      .header('Content-Length', String(end - start + 1))
      .send(d.blobs.open(r.ref, { start, end }));
  }
  // multipart/byteranges: each part streamed from storage in turn.
  const boundary = randomBytes(12).toString('hex');
  const heads = ranges.map(
    (x) => `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${x.start}-${x.end}/${size}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  const total = ranges.reduce((n, x, i) => n + Buffer.byteLength(heads[i]) + (x.end - x.start + 1), 0) + Buffer.byteLength(tail);
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  (async () => {
    try {
      for (let i = 0; i < ranges.length; i++) {
        if (!out.write(heads[i])) await new Promise((res) => out.once('drain', res));
        for await (const chunk of d.blobs.open(r.ref, ranges[i])) if (!out.write(chunk)) await new Promise((res) => out.once('drain', res));
      }
      out.end(tail);
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return reply
    .code(206)
    .header('Content-Type', `multipart/byteranges; boundary=${boundary}`)
    .header('Content-Length', String(total))
    .send(out);
};

export const deleteBlob: V2Handler = async (d, r) => {
  parseDigest(r.ref);
  await d.auth.authorize(r.req, r.caller, r.name, ['delete']);
  await d.blobs.remove(r.name, r.ref);
  return r.reply.code(202).header('Content-Length', '0').send();
};
