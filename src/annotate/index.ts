// The annotation grammar, shared by writers and the tailer. Pure: no I/O, no logging, no clock.
// Published as `cachetail/annotate`, for writers and tools in stacks that do not use `cachetail/app`.
export { AnnotationError, type AnnotationErrorCode } from './errors.js';
export { extractAnnotations, type ExtractOptions, type ExtractResult } from './extract.js';
export { annotate, formatAnnotation, type AnnotationFields } from './format.js';
export {
  ANNOTATION_KEYWORD,
  GRAMMAR_VERSION,
  type Annotation,
  type Rejected,
  type RejectReason,
} from './grammar.js';
export {
  MAX_KEY_BYTES,
  decodeKey,
  encodeKey,
  validateKey,
  type DecodedKey,
  type KeyRejectReason,
} from './key.js';
export {
  lexOptionsFromSqlMode,
  scanSql,
  type LexOptions,
  type RegionKind,
  type RegionVisitor,
} from './lexer.js';
