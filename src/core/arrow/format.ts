// Constants of the Arrow IPC format (Message.fbs, Schema.fbs) and of SPEC §2.1 that the reader
// and the writer share.

export const ARROW_SCHEMA = 'rewarder.inputs.arrow/v1';
export const ARROW_MEDIA_TYPE = 'application/vnd.apache.arrow.stream';

/** The custom metadata keys of the schema, exactly these three. */
export const META_SCHEMA = 'rewarder.schema';
export const META_WINDOW = 'rewarder.window';
export const META_POOL = 'rewarder.pool_minor';

/** The four fields, in order. */
export const FIELD_NAMES = ['actor', 'kind', 'qty', 'ts'] as const;

// MetadataVersion: V4 = 3, V5 = 4 (V1–V3 predate 1.0 and are refused).
export const METADATA_V4 = 3;
export const METADATA_V5 = 4;

// MessageHeader union.
export const HEADER_SCHEMA = 1;
export const HEADER_DICTIONARY_BATCH = 2;
export const HEADER_RECORD_BATCH = 3;

// Type union members used here.
export const TYPE_INT = 2;
export const TYPE_UTF8 = 5;

/** An Arrow IPC stream (modern framing) begins with the continuation marker; JSON never can. */
export function isArrowStream(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff;
}
