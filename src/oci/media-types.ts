export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);
export const IMAGE_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...INDEX_TYPES, ...IMAGE_TYPES]);

/** Layers a registry must accept without having the blob (foreign / non-distributable). */
export function isNonDistributable(mediaType: string): boolean {
  return (
    mediaType === MediaType.DockerForeignLayer ||
    mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.') ||
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar'
  );
}
