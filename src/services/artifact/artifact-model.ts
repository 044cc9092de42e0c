// Pure rules of the artifact domain: Harbor's artifact type from the manifest (its processors' media types),
// accessory types, sizes, the references of an index, and the summary kept from an image config.
import { gunzipSync } from 'node:zlib';

export const ArtifactTypes = {
  Image: 'IMAGE',
  Chart: 'CHART',
  Cnab: 'CNAB',
  Sbom: 'SBOM',
  Wasm: 'WASM',
  Signature: 'SIGNATURE',
  Unknown: 'UNKNOWN',
} as const;

export const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const IMAGE_CONFIGS = ['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json'];
const INDEXES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const CNAB_CONFIG = 'application/vnd.cnab.config.v1+json';
const SBOM_TYPES = ['application/vnd.goharbor.harbor.sbom.v1', 'application/spdx+json', 'application/vnd.cyclonedx+json', 'application/vnd.syft+json'];
const WASM_CONFIG = 'application/vnd.wasm.config.v1+json';
export const COSIGN_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_TYPES = [COSIGN_SIG_ARTIFACT, 'application/vnd.cncf.notary.signature', 'application/vnd.dev.sigstore.bundle.v0.3+json'];

export interface ManifestFacts {
  mediaType: string;
  artifactType: string | null;
  configMediaType: string | null;
  content: Buffer;
  annotations: Record<string, string> | null;
}

function doc(content: Buffer): Record<string, any> {
  try {
    const d = JSON.parse(content.toString('utf8'));
    return d && typeof d === 'object' ? d : {};
  } catch {
    return {};
  }
}

/** The manifest's own artifactType, if it set one (the parsed column falls back to the config type). */
function declaredArtifactType(m: ManifestFacts): string | null {
  const t = doc(m.content).artifactType;
  return typeof t === 'string' ? t : null;
}

export function artifactTypeOf(m: ManifestFacts): string {
  const at = declaredArtifactType(m);
  if (INDEXES.includes(m.mediaType)) {
    if (m.annotations && Object.keys(m.annotations).some((k) => k.startsWith('io.cnab.'))) return ArtifactTypes.Cnab;
    return ArtifactTypes.Image;
  }
  const cfg = m.configMediaType ?? '';
  if (at && SIGNATURE_TYPES.includes(at)) return ArtifactTypes.Signature;
  if (at && SBOM_TYPES.includes(at)) return ArtifactTypes.Sbom;
  if (cfg === HELM_CONFIG) return ArtifactTypes.Chart;
  if (cfg === CNAB_CONFIG) return ArtifactTypes.Cnab;
  if (cfg === WASM_CONFIG) return ArtifactTypes.Wasm;
  if (SBOM_TYPES.includes(cfg)) return ArtifactTypes.Sbom;
  if (IMAGE_CONFIGS.includes(cfg)) {
    const layers = doc(m.content).layers;
    if (Array.isArray(layers) && layers.length > 0 && layers.every((l: any) => l?.mediaType === COSIGN_SIMPLESIGNING)) return ArtifactTypes.Signature;
    return ArtifactTypes.Image;
  }
  return ArtifactTypes.Unknown;
}

/**
 * The type from the stored columns alone (no manifest body), for counts over many rows. The artifact_type
 * column holds the declared artifactType (else the config media type, which decides the same way); only the
 * cosign simple-signing layer rule needs the body, and those manifests are accessories, not counted artifacts.
 */
export function artifactTypeOfColumns(mediaType: string, configMediaType: string | null, artifactType: string | null): string {
  const content = Buffer.from(JSON.stringify(artifactType ? { artifactType } : {}));
  return artifactTypeOf({ mediaType, configMediaType, artifactType, content, annotations: null });
}

/** The type filter of `q=type=X`, as SQL over manifests `m` (config media type / manifest media type only). */
export function typeCondition(type: string): [string, string[]] | null {
  const list = (xs: string[]) => xs.map(() => '?').join(',');
  switch (type.toUpperCase()) {
    case 'IMAGE':
      return [`m.media_type IN (${list(INDEXES)}) OR m.config_media_type IN (${list(IMAGE_CONFIGS)})`, [...INDEXES, ...IMAGE_CONFIGS]];
    case 'CHART':
      return ['m.config_media_type = ?', [HELM_CONFIG]];
    case 'CNAB':
      return ['m.config_media_type = ?', [CNAB_CONFIG]];
    case 'WASM':
      return ['m.config_media_type = ?', [WASM_CONFIG]];
    case 'SBOM':
      return [`m.config_media_type IN (${list(SBOM_TYPES)}) OR m.artifact_type IN (${list(SBOM_TYPES)})`, [...SBOM_TYPES, ...SBOM_TYPES]];
    case 'UNKNOWN': {
      const known = [...IMAGE_CONFIGS, HELM_CONFIG, CNAB_CONFIG, WASM_CONFIG, ...SBOM_TYPES];
      return [`m.media_type NOT IN (${list(INDEXES)}) AND (m.config_media_type IS NULL OR m.config_media_type NOT IN (${list(known)}))`, [...INDEXES, ...known]];
    }
    default:
      return null;
  }
}

/** Harbor's `media_type`: the config media type of a manifest, the manifest media type of an index. */
export function mediaTypeOf(m: ManifestFacts): string {
  return m.configMediaType ?? m.mediaType;
}

/** Accessory type of a manifest attached to another (by subject, or by a cosign tag). */
export function accessoryTypeOf(m: ManifestFacts, viaCosignTag: string | null): string {
  const at = m.artifactType ?? declaredArtifactType(m);
  if (viaCosignTag?.endsWith('.sig') || at === COSIGN_SIG_ARTIFACT) return 'signature.cosign';
  if (at === 'application/vnd.cncf.notary.signature') return 'signature.notation';
  if (at === 'application/vnd.goharbor.harbor.sbom.v1') return 'sbom.harbor';
  if (at?.startsWith('application/vnd.nydus')) return 'accelerator.nydus';
  if (!viaCosignTag && artifactTypeOf(m) === ArtifactTypes.Signature) return 'signature.cosign';
  return 'subject.accessory';
}

/** The cosign tags naming accessories of `digest` (sha256 only, as cosign). */
export function cosignTagsFor(digest: string): string[] {
  if (!digest.startsWith('sha256:')) return [];
  const base = 'sha256-' + digest.slice(7);
  return [`${base}.sig`, `${base}.att`, `${base}.sbom`];
}
export function subjectOfCosignTag(tag: string): string | null {
  const m = /^sha256-([0-9a-f]{64})\.(sig|att|sbom)$/.exec(tag);
  return m ? `sha256:${m[1]}` : null;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Record<string, unknown>;
  annotations?: Record<string, string>;
  urls?: string[];
}
export function childrenOf(m: ManifestFacts): Descriptor[] {
  const ms = doc(m.content).manifests;
  return Array.isArray(ms) ? ms.filter((d) => d && typeof d.digest === 'string') : [];
}
export function blobsOf(m: ManifestFacts): Descriptor[] {
  const d = doc(m.content);
  const out: Descriptor[] = [];
  if (d.config && typeof d.config.digest === 'string') out.push(d.config);
  if (Array.isArray(d.layers)) for (const l of d.layers) if (l && typeof l.digest === 'string') out.push(l);
  return out;
}
export function configOf(m: ManifestFacts): Descriptor | null {
  const c = doc(m.content).config;
  return c && typeof c.digest === 'string' ? c : null;
}

/** Size of an image: manifest + config + layers; of an index: the index + its children's sizes (when known). */
export function sizeOf(m: ManifestFacts & { size: number }, childSize: (digest: string) => number | undefined): number {
  if (INDEXES.includes(m.mediaType)) return m.size + childrenOf(m).reduce((a, c) => a + (childSize(c.digest) ?? Number(c.size) ?? 0), 0);
  return m.size + blobsOf(m).reduce((a, b) => a + (Number.isSafeInteger(b.size) ? b.size : 0), 0);
}

/** Harbor's extra_attrs of an image from its config JSON (created, architecture, os, config, author). */
export function imageExtraAttrs(config: Record<string, any>, annotations: Record<string, string> | null): Record<string, unknown> {
  const labels = config?.config?.Labels ?? {};
  const author = annotations?.['org.opencontainers.image.authors'] ?? labels['org.opencontainers.image.authors'] ?? labels.maintainer ?? config?.author ?? '';
  return { created: config?.created ?? null, architecture: config?.architecture ?? '', os: config?.os ?? '', config: config?.config ?? {}, author };
}

/** The additions an artifact type offers (Harbor's addition_links keys). */
export function additionsOf(type: string): string[] {
  if (type === ArtifactTypes.Image) return ['build_history'];
  if (type === ArtifactTypes.Chart) return ['values.yaml', 'readme.md', 'dependencies'];
  return [];
}

/** Files of a gzip'd tar (regular files only), at most `maxBytes` uncompressed. */
export function untarGz(gz: Buffer, maxBytes = 64 * 1024 * 1024): Map<string, Buffer> {
  const tar = gunzipSync(gz, { maxOutputLength: maxBytes });
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  const str = (b: Buffer) => {
    const z = b.indexOf(0);
    return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
  };
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(str(h.subarray(124, 136)).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('corrupt tar header');
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h.subarray(345, 500));
    let name = str(h.subarray(0, 100));
    if (prefix) name = `${prefix}/${name}`;
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = m ? m[1] : null;
      continue;
    }
    if (type === 'g') continue;
    const path = paxPath ?? longName ?? name;
    longName = null;
    paxPath = null;
    if (type === '0' || type === '\0' || type === '7') files.set(path.replace(/^\.\//, ''), Buffer.from(body));
  }
  return files;
}

/** values.yaml / README.md / Chart.yaml (+ requirements.yaml) of a chart archive: the top-level chart's files. */
export function chartFiles(files: Map<string, Buffer>): { values: string; readme: string; chartYaml: string; requirements: string } {
  const top = (want: string) => {
    for (const [p, b] of files) {
      const parts = p.split('/');
      if (parts.length === 2 && parts[1].toLowerCase() === want.toLowerCase()) return b.toString('utf8');
    }
    return '';
  };
  return { values: top('values.yaml'), readme: top('README.md'), chartYaml: top('Chart.yaml'), requirements: top('requirements.yaml') };
}
