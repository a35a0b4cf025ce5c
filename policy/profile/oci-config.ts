// Profiles and OCI runtime-spec configs, both directions: reading a config.json as a profile
// (oci-config-import.ts) and writing a profile as a bundle's config.json (oci-config-export.ts).
export { profileFromOciConfig } from './oci-config-import.js';
export { ociConfigFromProfile, ociConfigGaps, type OciConfigGap, type OciConfigOptions } from './oci-config-export.js';
export { ociConfigJson, NSRIG_ANNOTATIONS, type OciRuntimeConfig, type OciMount, type OciIdMapping, type OciRlimit } from './oci-spec.js';
