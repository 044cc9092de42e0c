// Manifest parsing: decides the media type, rejects ambiguous documents (GHSA-qq97-vm5h-rrhg) and lists what a
// manifest references. The stored bytes are always the exact bytes received; this never re-serialises.
import { Errors } from '../errors.ts';
import { parseDigest } from './digest.ts';
import { INDEX_TYPES, IMAGE_TYPES, MediaType, isNonDistributable } from './media-types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: unknown;
}

export interface ParsedManifest {
  mediaType: string;
  isIndex: boolean;
  /** artifactType as the referrers API reports it: the manifest's, else its config media type (images only). */
  artifactType: string | null;
  configMediaType: string | null;
  /** Blobs that must be linked to the repository (config and distributable layers). */
  blobs: string[];
  /** Child manifests (index entries) that must exist in the repository. */
  manifests: string[];
  /** The size each referenced blob or child manifest declares (checked against what is stored). */
  declaredSizes: Map<string, number>;
  subject: string | null;
  annotations: Record<string, string> | null;
}

// Media types are stored and compared as text; control characters (NUL breaks PostgreSQL text) are never valid.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const bareType = (ct: string | undefined): string => (ct ?? '').split(';')[0].trim().toLowerCase();

function descriptor(v: unknown, where: string): Descriptor {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw Errors.manifestInvalid(`${where}: descriptor must be an object`);
  const d = v as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw Errors.manifestInvalid(`${where}: mediaType is required`);
  if (CONTROL_CHARS.test(d.mediaType)) throw Errors.manifestInvalid(`${where}: mediaType contains control characters`);
  if (typeof d.digest !== 'string') throw Errors.manifestInvalid(`${where}: digest is required`);
  try {
    parseDigest(d.digest);
  } catch {
    throw Errors.manifestInvalid(`${where}: invalid digest ${JSON.stringify(d.digest).slice(0, 200)}`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw Errors.manifestInvalid(`${where}: size must be a non-negative integer`);
  if (d.annotations !== undefined && !isStringMap(d.annotations)) throw Errors.manifestInvalid(`${where}: annotations must map strings to strings`);
  return d as unknown as Descriptor;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string');
}

export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw Errors.manifestInvalid('manifest is not valid JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw Errors.manifestInvalid('manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  const ct = bareType(contentType);
  if (m.schemaVersion === 1 || ct === MediaType.DockerSchema1 || ct === MediaType.DockerSchema1Signed)
    throw Errors.manifestInvalid('Docker schema 1 manifests are not supported; push schema 2 or OCI');
  if (m.schemaVersion !== 2) throw Errors.manifestInvalid('schemaVersion must be 2');
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string') throw Errors.manifestInvalid('mediaType must be a string');
  const hasManifests = 'manifests' in m;
  const hasImageFields = 'layers' in m || 'config' in m;
  if (hasManifests && hasImageFields) throw Errors.manifestInvalid('ambiguous manifest: has both manifests and layers/config');

  let mediaType = (m.mediaType as string | undefined) ?? '';
  if (mediaType && ct && ct !== mediaType && ct !== 'application/json' && ct !== 'application/octet-stream')
    throw Errors.manifestInvalid(`Content-Type ${ct} does not match manifest mediaType ${mediaType}`);
  if (!mediaType) {
    if (INDEX_TYPES.has(ct) || IMAGE_TYPES.has(ct)) mediaType = ct;
    else mediaType = hasManifests ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (!INDEX_TYPES.has(mediaType) && !IMAGE_TYPES.has(mediaType))
    throw Errors.manifestInvalid(`unsupported manifest media type ${mediaType}`);
  const isIndex = INDEX_TYPES.has(mediaType);
  if (isIndex && hasImageFields) throw Errors.manifestInvalid('an index must not have config or layers');
  if (!isIndex && hasManifests) throw Errors.manifestInvalid('an image manifest must not have manifests');
  if (m.artifactType !== undefined && (typeof m.artifactType !== 'string' || CONTROL_CHARS.test(m.artifactType)))
    throw Errors.manifestInvalid('artifactType must be a string without control characters');
  if (m.annotations !== undefined && !isStringMap(m.annotations)) throw Errors.manifestInvalid('annotations must map strings to strings');

  const subject = m.subject === undefined ? null : descriptor(m.subject, 'subject').digest;
  const blobs: string[] = [];
  const manifests: string[] = [];
  const declaredSizes = new Map<string, number>();
  const declare = (d: Descriptor, where: string) => {
    const before = declaredSizes.get(d.digest);
    if (before !== undefined && before !== d.size) throw Errors.manifestInvalid(`${where}: ${d.digest} is declared with two sizes (${before} and ${d.size})`);
    declaredSizes.set(d.digest, d.size);
  };
  let configMediaType: string | null = null;
  if (isIndex) {
    if (!Array.isArray(m.manifests)) throw Errors.manifestInvalid('manifests must be an array');
    m.manifests.forEach((d, i) => {
      const c = descriptor(d, `manifests[${i}]`);
      declare(c, `manifests[${i}]`);
      manifests.push(c.digest);
    });
  } else {
    const config = descriptor(m.config, 'config');
    configMediaType = config.mediaType;
    declare(config, 'config');
    blobs.push(config.digest);
    if (m.layers !== undefined && !Array.isArray(m.layers)) throw Errors.manifestInvalid('layers must be an array');
    const layers = (m.layers as unknown[] | undefined) ?? [];
    if (layers.length === 0 && mediaType === MediaType.DockerManifest) throw Errors.manifestInvalid('a Docker image manifest needs layers');
    layers.forEach((d, i) => {
      const l = descriptor(d, `layers[${i}]`);
      if (isNonDistributable(l.mediaType)) return;
      declare(l, `layers[${i}]`);
      blobs.push(l.digest);
    });
  }
  const artifactType = (m.artifactType as string | undefined) ?? (isIndex ? null : configMediaType);
  return {
    mediaType,
    isIndex,
    artifactType,
    configMediaType,
    blobs: [...new Set(blobs)],
    manifests: [...new Set(manifests)],
    declaredSizes,
    subject,
    annotations: (m.annotations as Record<string, string> | undefined) ?? null,
  };
}
