// Built-in artifact icons (Harbor's GET /icons/{digest} and the `icon` field of artifacts and accessories).
// Harbor ships PNG files per artifact type; Berth draws its own small PNGs in code at start (a coloured rounded
// square with a white letter), so no binary files are committed. Each icon's digest is the sha256 of its PNG
// bytes, so it is stable as long as the drawing does not change.
import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { ApiErrors } from '../../errors.ts';

export interface Icon {
  'content-type': 'image/png';
  /** base64 of the PNG */
  content: string;
}

const SIZE = 32;

// 5x7 glyphs, one string per row ('#' = set).
const GLYPHS: Record<string, string[]> = {
  I: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '#####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  C: ['.####', '#....', '#....', '#....', '#....', '#....', '.####'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '##.##', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  N: ['#...#', '##..#', '#.#.#', '#.#.#', '#..##', '#...#', '#...#'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
};

/** RGBA pixels of one icon: rounded square in `rgb`, the glyph in white, transparent corners. */
function draw(letter: string, rgb: [number, number, number]): Buffer {
  const px = Buffer.alloc(SIZE * SIZE * 4);
  const glyph = GLYPHS[letter]!;
  const scale = 3;
  const gx = Math.floor((SIZE - 5 * scale) / 2);
  const gy = Math.floor((SIZE - 7 * scale) / 2);
  const r = 6; // corner radius
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const cx = x < r ? r : x >= SIZE - r ? SIZE - r - 1 : x;
      const cy = y < r ? r : y >= SIZE - r ? SIZE - r - 1 : y;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
      if (!inside) continue;
      const row = glyph[Math.floor((y - gy) / scale)];
      const on = y >= gy && x >= gx && row !== undefined && row[Math.floor((x - gx) / scale)] === '#';
      const o = (y * SIZE + x) * 4;
      const [cr, cg, cb] = on ? [255, 255, 255] : rgb;
      px[o] = cr;
      px[o + 1] = cg;
      px[o + 2] = cb;
      px[o + 3] = 255;
    }
  return px;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A minimal PNG: 8-bit RGBA, no interlace, filter 0 on every row. */
export function encodePng(rgba: Buffer, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The built-in icons by name: artifact types and accessory types. */
const DRAWINGS = {
  image: ['I', [0x1f, 0x6f, 0xb2]],
  chart: ['H', [0x0f, 0x16, 0x89]],
  cnab: ['C', [0x6b, 0x3f, 0xa0]],
  wasm: ['W', [0x65, 0x4f, 0xf0]],
  cnai: ['M', [0x00, 0x8a, 0x7e]],
  default: ['A', [0x5a, 0x5a, 0x5a]],
  cosign: ['S', [0xd9, 0x6c, 0x00]],
  notation: ['N', [0x2e, 0x7d, 0x32]],
  nydus: ['Y', [0x00, 0x83, 0xb0]],
  sbom: ['B', [0xb0, 0x3a, 0x2e]],
} as const satisfies Record<string, readonly [string, readonly [number, number, number]]>;
export type IconName = keyof typeof DRAWINGS;

const BUILT_IN: ReadonlyMap<IconName, { digest: string; png: Buffer }> = new Map(
  (Object.keys(DRAWINGS) as IconName[]).map((name) => {
    const [letter, rgb] = DRAWINGS[name];
    const png = encodePng(draw(letter, [...rgb] as [number, number, number]), SIZE, SIZE);
    return [name, { digest: `sha256:${createHash('sha256').update(png).digest('hex')}`, png }];
  }),
);
const BY_DIGEST: ReadonlyMap<string, Icon> = new Map(
  [...BUILT_IN.values()].map(({ digest, png }) => [digest, { 'content-type': 'image/png', content: png.toString('base64') }]),
);

/** The digest of a built-in icon. */
export function iconDigest(name: IconName): string {
  return BUILT_IN.get(name)!.digest;
}

/** Harbor's artifact type (IMAGE, CHART, …) → the digest its `icon` field names. */
export function iconOfArtifactType(type: string): string {
  switch (type) {
    case 'IMAGE':
      return iconDigest('image');
    case 'CHART':
      return iconDigest('chart');
    case 'CNAB':
      return iconDigest('cnab');
    case 'WASM':
      return iconDigest('wasm');
    case 'CNAI':
      return iconDigest('cnai');
    case 'SBOM':
      return iconDigest('sbom');
    case 'SIGNATURE':
      return iconDigest('cosign');
    default:
      return iconDigest('default');
  }
}

/** An accessory type (signature.cosign, …) → its icon digest; '' when Harbor has none (subject.accessory). */
export function iconOfAccessoryType(type: string): string {
  if (type === 'signature.cosign') return iconDigest('cosign');
  if (type === 'signature.notation') return iconDigest('notation');
  if (type === 'accelerator.nydus') return iconDigest('nydus');
  if (type === 'sbom.harbor') return iconDigest('sbom');
  return '';
}

/** GET /icons/{digest}: a built-in icon, or Harbor's 404 naming the digest. */
export function getIcon(digest: string): Icon {
  const icon = BY_DIGEST.get(digest);
  if (!icon) throw ApiErrors.notFound(`the icon ${digest.slice(0, 128)} not found`);
  return icon;
}
